// Package rbacstore keeps the operator's Roles and RoleBindings in the
// manager's cache in the least memory that serves a pass: for each, its name,
// resource version, owner references and the fingerprint of what it grants
// (rbacphase.TrimForCache), in one small record instead of an object in an
// informer's store and indexes. At 10,000 spaces their 50,000 Roles and
// RoleBindings took about a third of the manager's live heap as trimmed
// objects; as records they take a tenth of that.
//
// A Store is fed by a client-go Reflector (it is its ReflectorStore), answers
// Get and List with the objects the cache would have held (the trimmed form,
// made afresh on each read, so callers may change them), and serves the
// controllers' watches as an informer that hands its handlers the same objects.
// Cache puts a Store for each kind in front of the manager's cache.
package rbacstore

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opencommons/collab-operator/internal/spacepass/rbacphase"
)

// record is what a Store keeps of one object.
type record struct {
	name, resourceVersion string
	// fingerprint is the trimmed object's selfLink.
	fingerprint string
	// owners may be shared with other records of the namespace: never changed
	// in place, copied on each read.
	owners []metav1.OwnerReference
}

// Kind says how a Store makes the objects of its kind.
type Kind struct {
	// Name is the kind, for errors and the reflector's name.
	Name string
	// New returns an empty object of the kind.
	New func() client.Object
	// NewList returns an empty list of the kind.
	NewList func() client.ObjectList
}

// Store is the operator's objects of one kind, as records by namespace.
type Store struct {
	kind Kind

	mu       sync.RWMutex
	byNS     map[string][]record
	handlers []*registration
	stopped  bool
	// synced is closed once the first list is in and told to the handlers.
	synced chan struct{}
}

// NewStore returns an empty Store for kind; it fills when its reflector runs.
func NewStore(kind Kind) *Store {
	return &Store{kind: kind, byNS: map[string][]record{}, synced: make(chan struct{})}
}

// Add records obj (the reflector's Add).
func (s *Store) Add(obj any) error { return s.Update(obj) }

// Update records obj, and tells the handlers.
func (s *Store) Update(obj any) error {
	o, err := s.trimmed(obj)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, existed := s.put(o)
	if existed {
		before := s.object(o.GetNamespace(), old)
		s.notify(func(h toolscache.ResourceEventHandler) { h.OnUpdate(before, o) })
	} else {
		s.notify(func(h toolscache.ResourceEventHandler) { h.OnAdd(o, false) })
	}
	return nil
}

// Delete forgets obj, and tells the handlers.
func (s *Store) Delete(obj any) error {
	if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	o, ok := obj.(client.Object)
	if !ok {
		return fmt.Errorf("rbacstore: cannot delete a %T from the %s store", obj, s.kind.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, found := s.remove(o.GetNamespace(), o.GetName()); found {
		gone := s.object(o.GetNamespace(), old)
		s.notify(func(h toolscache.ResourceEventHandler) { h.OnDelete(gone) })
	}
	return nil
}

// Replace puts list in place of everything recorded (the reflector's list, at
// start and after a watch could not resume), and tells the handlers what was
// added, changed and removed. The first Replace syncs the store.
func (s *Store) Replace(list []any, _ string) error {
	objs := make([]client.Object, 0, len(list))
	for _, item := range list {
		o, err := s.trimmed(item)
		if err != nil {
			return err
		}
		objs = append(objs, o)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.byNS
	s.byNS = make(map[string][]record, len(before))
	initial := !isDone(s.synced)
	for _, o := range objs {
		s.put(o)
		old, existed := find(before[o.GetNamespace()], o.GetName())
		switch {
		case !existed:
			s.notify(func(h toolscache.ResourceEventHandler) { h.OnAdd(o, initial) })
		case old.resourceVersion != o.GetResourceVersion():
			prev := s.object(o.GetNamespace(), old)
			s.notify(func(h toolscache.ResourceEventHandler) { h.OnUpdate(prev, o) })
		}
	}
	for ns, records := range before {
		for _, old := range records {
			if _, kept := find(s.byNS[ns], old.name); !kept {
				gone := s.object(ns, old)
				s.notify(func(h toolscache.ResourceEventHandler) { h.OnDelete(gone) })
			}
		}
	}
	if initial {
		close(s.synced)
	}
	return nil
}

// Resync does nothing: a Store has no queue to refill.
func (s *Store) Resync() error { return nil }

// trimmed is obj as the cache keeps it. An object trimmed already (by
// Transformer, as a watch-list streamed it) is taken as it is.
func (s *Store) trimmed(obj any) (client.Object, error) {
	o, ok := obj.(client.Object)
	if !ok {
		return nil, fmt.Errorf("rbacstore: cannot keep a %T in the %s store", obj, s.kind.Name)
	}
	if rbacphase.IsTrimmed(o) {
		return o, nil
	}
	if _, err := rbacphase.TrimForCache(o); err != nil {
		return nil, err
	}
	return o, nil
}

// Transformer trims each object as the reflector receives it: a reflector
// whose store has one applies it to the objects a watch-list streams in before
// it holds them all for Replace, so a manager that starts at 10,000 spaces
// never holds 50,000 whole Roles and RoleBindings at once.
func (s *Store) Transformer() toolscache.TransformFunc {
	return func(obj any) (any, error) {
		if _, ok := obj.(client.Object); !ok {
			return obj, nil // a tombstone or a bookmark's status: the reflector's own
		}
		return s.trimmed(obj)
	}
}

// recordOf is the record of a trimmed object.
func (s *Store) recordOf(o client.Object) record {
	return record{name: o.GetName(), resourceVersion: o.GetResourceVersion(), fingerprint: o.GetSelfLink(),
		owners: o.GetOwnerReferences()}
}

// put records a trimmed object, sharing the owner references of another
// record of its namespace when they are the same (a space's Roles and
// RoleBindings all name it alone), and returns the record it replaced.
func (s *Store) put(o client.Object) (old record, existed bool) {
	ns := o.GetNamespace()
	records := s.byNS[ns]
	rec := s.recordOf(o)
	for _, other := range records {
		if other.name != rec.name && apiequality.Semantic.DeepEqual(other.owners, rec.owners) {
			rec.owners = other.owners
			break
		}
	}
	i := slices.IndexFunc(records, func(r record) bool { return r.name == rec.name })
	if i < 0 {
		s.byNS[ns] = append(records, rec)
		return record{}, false
	}
	old, records[i] = records[i], rec
	return old, true
}

// remove forgets the record of namespace/name.
func (s *Store) remove(ns, name string) (record, bool) {
	records := s.byNS[ns]
	i := slices.IndexFunc(records, func(r record) bool { return r.name == name })
	if i < 0 {
		return record{}, false
	}
	old := records[i]
	if records = slices.Delete(records, i, i+1); len(records) == 0 {
		delete(s.byNS, ns)
	} else {
		s.byNS[ns] = records
	}
	return old, true
}

func find(records []record, name string) (record, bool) {
	i := slices.IndexFunc(records, func(r record) bool { return r.name == name })
	if i < 0 {
		return record{}, false
	}
	return records[i], true
}

// object makes the trimmed object a record stands for, with its own copy of
// the owner references.
func (s *Store) object(ns string, r record) client.Object {
	o := s.kind.New()
	owners := make([]metav1.OwnerReference, len(r.owners))
	for i := range r.owners {
		r.owners[i].DeepCopyInto(&owners[i])
	}
	rbacphase.SetTrimmed(o, ns, r.name, r.resourceVersion, r.fingerprint, owners)
	return o
}

// get is the object namespace/name as the cache keeps it.
func (s *Store) get(ns, name string) (client.Object, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := find(s.byNS[ns], name)
	if !ok {
		return nil, false
	}
	return s.object(ns, r), true
}

// list is every object of namespace ns ("" for all), ordered by namespace and name.
func (s *Store) list(ns string) []client.Object {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []client.Object
	add := func(ns string) {
		for _, r := range s.byNS[ns] {
			out = append(out, s.object(ns, r))
		}
	}
	if ns != "" {
		add(ns)
	} else {
		for n := range s.byNS {
			add(n)
		}
	}
	slices.SortFunc(out, func(a, b client.Object) int {
		return strings.Compare(a.GetNamespace()+"/"+a.GetName(), b.GetNamespace()+"/"+b.GetName())
	})
	return out
}
