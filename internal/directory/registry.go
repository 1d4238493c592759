package directory

import "sync"

// Registry holds what each directory last resolved, in the manager's memory: the
// PeopleDirectory controller writes it, the spaces' passes read it. After a
// restart it is empty until the directory's first poll; spaces then keep the
// membership recorded in their status.
type Registry struct {
	mu sync.RWMutex
	m  map[string]*entry
}

type entry struct {
	groups map[string]Group
	err    error
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]*entry{}} }

// Lookup returns a directory's groups as last resolved and the error of its last
// poll, if that failed (the groups are then the last good ones). ok is false when
// the directory was never resolved in this process.
func (r *Registry) Lookup(dir string) (groups map[string]Group, lastErr error, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.m[dir]
	if !ok || e.groups == nil {
		var err error
		if ok {
			err = e.err
		}
		return nil, err, false
	}
	return e.groups, e.err, true
}

// Store records a successful resolution.
func (r *Registry) Store(dir string, groups map[string]Group) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[dir] = &entry{groups: groups}
}

// Fail records a failed poll, keeping the last good groups.
func (r *Registry) Fail(dir string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[dir]
	if e == nil {
		e = &entry{}
		r.m[dir] = e
	}
	e.err = err
}

// Forget drops a deleted directory.
func (r *Registry) Forget(dir string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, dir)
}
