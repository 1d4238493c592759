package cachetrim

import "sync"

// maxInterned bounds the strings intern keeps. The values it is given are
// enumerations (member kinds and roles, condition types and reasons, owner
// kinds): a few dozen. Anyone who may write a space's status could send new
// ones; past the bound they are simply not shared.
const maxInterned = 1024

// maxInternedLen keeps long strings (messages, names) out of the table.
const maxInternedLen = 64

var interned = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

// intern returns the one copy of s the cache shares, keeping s as that copy
// when it is the first. The cache's informers call it side by side.
func intern(s string) string {
	if s == "" || len(s) > maxInternedLen {
		return s
	}
	interned.Lock()
	defer interned.Unlock()
	if v, ok := interned.m[s]; ok {
		return v
	}
	if len(interned.m) < maxInterned {
		interned.m[s] = s
	}
	return s
}
