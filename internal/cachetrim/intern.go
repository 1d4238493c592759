package cachetrim

import "sync"

// table shares strings: the first copy of a value given is the one returned
// for it after. It keeps at most max values of at most maxLen bytes, never
// forgetting one: anyone who may write what the cache holds could send new
// values, which past the bound are simply not shared.
type table struct {
	sync.Mutex
	m      map[string]string
	max    int
	maxLen int
}

func (t *table) share(s string) string {
	if s == "" || len(s) > t.maxLen {
		return s
	}
	t.Lock()
	defer t.Unlock()
	if v, ok := t.m[s]; ok {
		return v
	}
	if len(t.m) < t.max {
		t.m[s] = s
	}
	return s
}

func (t *table) len() int {
	t.Lock()
	defer t.Unlock()
	return len(t.m)
}

// enumerations are the values of member kinds and roles, condition types and
// reasons, owner kinds: a few dozen.
var enumerations = &table{m: map[string]string{}, max: 1024, maxLen: 64}

// people are those directory groups resolve to, as spaces' status lists
// them: a group in several spaces names the same people in each (10,000
// spaces of groups of 20 from a 10,000-person directory name 200,000 people,
// 10,000 of them different). At most 50,000 kept, about 3.5 MiB.
var people = &table{m: map[string]string{}, max: 50_000, maxLen: 255}

// intern returns the one copy of an enumeration's value the cache shares. The
// cache's informers call it side by side.
func intern(s string) string { return enumerations.share(s) }

// internPerson returns the one copy of a person's id the cache shares.
func internPerson(s string) string { return people.share(s) }
