package insights

import (
	"sync"
	"time"
)

// Day is a calendar day in UTC, counted from the Unix epoch: the unit the
// live counts are kept in.
type Day int32

// DayOf is the day t falls on.
func DayOf(t time.Time) Day { return Day(t.UTC().Truncate(24*time.Hour).Unix() / 86400) }

// Start is the day's first instant.
func (d Day) Start() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Tally is what messages add up to, day by day: how many messages each person
// sent in each room, and how many answers each person sent to each other person
// in each room. It holds no message, no content and no message id, so its size
// follows the people talking in each room each day, not the messages. It is safe
// for concurrent use.
type Tally struct {
	mu   sync.Mutex
	days map[Day]*dayTally
	// ids number the user and room ids the keys name: a tally repeats the same
	// few thousand ids in every day's keys, and a 4-byte number keeps a count
	// at about a third of the memory a string or an interned handle would.
	ids   map[string]id
	names []string
}

// id is a user or room id's number in its tally.
type id uint32

type sentKey struct{ room, sender id }

type answerKey struct{ room, from, to id }

type dayTally struct {
	sent     map[sentKey]int32
	answered map[answerKey]int32
}

// NewTally returns an empty tally.
func NewTally() *Tally { return &Tally{days: map[Day]*dayTally{}, ids: map[string]id{}} }

// id numbers a user or room id; called with mu held.
func (t *Tally) id(name string) id {
	n, ok := t.ids[name]
	if !ok {
		n = id(len(t.names))
		t.ids[name] = n
		t.names = append(t.names, name)
	}
	return n
}

func (t *Tally) day(d Day) *dayTally {
	dt := t.days[d]
	if dt == nil {
		dt = &dayTally{sent: map[sentKey]int32{}, answered: map[answerKey]int32{}}
		t.days[d] = dt
	}
	return dt
}

// Sent adds a message sender sent in room on day d.
func (t *Tally) Sent(d Day, room, sender string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.day(d).sent[sentKey{t.id(room), t.id(sender)}]++
}

// Answered adds an answer from sent to in room on day d. An answer to
// oneself is no answer.
func (t *Tally) Answered(d Day, room, from, to string) {
	if from == to {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.day(d).answered[answerKey{t.id(room), t.id(from), t.id(to)}]++
}

// Forget drops the days before d.
func (t *Tally) Forget(before Day) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for d := range t.days {
		if d < before {
			delete(t.days, d)
		}
	}
}

// Retain forgets the counts of every room but those kept.
func (t *Tally) Retain(keep map[string]bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, dt := range t.days {
		for k := range dt.sent {
			if !keep[t.names[k.room]] {
				delete(dt.sent, k)
			}
		}
		for k := range dt.answered {
			if !keep[t.names[k.room]] {
				delete(dt.answered, k)
			}
		}
	}
}

// Entries is how many counts the tally holds: what its memory follows.
func (t *Tally) Entries() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, dt := range t.days {
		n += len(dt.sent) + len(dt.answered)
	}
	return n
}

// each hands the counts of the days from first to last to sent and answered.
func (t *Tally) each(first, last Day, sent func(room, sender string, n int), answered func(room, from, to string, n int)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for d, dt := range t.days {
		if d < first || d > last {
			continue
		}
		for k, n := range dt.sent {
			sent(t.names[k.room], t.names[k.sender], int(n))
		}
		for k, n := range dt.answered {
			answered(t.names[k.room], t.names[k.from], t.names[k.to], int(n))
		}
	}
}

// LastDays is the window of the last n days as the figures count them, in whole
// UTC days: today (up to now) and the n-1 days before.
func LastDays(now time.Time, n int) Window {
	return Window{From: (DayOf(now) - Day(n) + 1).Start(), To: now}
}
