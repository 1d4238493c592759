package rbacstore

import (
	"errors"
	"slices"
	"sync"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A Store is the informer of its kind for the controllers' watches (Owns): its
// handlers get the trimmed objects, as an informer's would after the cache's
// transform. They are called with the store locked, in the order the
// reflector delivered the changes; controller-runtime's handlers only queue a
// request.
var _ cache.Informer = (*Store)(nil)

// AddEventHandler registers h; it is told of every object already held, as
// in an initial list, then of each change.
func (s *Store) AddEventHandler(h toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg := &registration{handler: h, done: make(chan struct{}), name: s.kind.Name}
	for ns, records := range s.byNS {
		for _, r := range records {
			h.OnAdd(s.object(ns, r), true)
		}
	}
	if s.synced {
		reg.markSynced()
	}
	s.handlers = append(s.handlers, reg)
	return reg, nil
}

// AddEventHandlerWithResyncPeriod is AddEventHandler: a Store never resyncs.
func (s *Store) AddEventHandlerWithResyncPeriod(h toolscache.ResourceEventHandler,
	_ time.Duration) (toolscache.ResourceEventHandlerRegistration, error) {
	return s.AddEventHandler(h)
}

// AddEventHandlerWithOptions is AddEventHandler.
func (s *Store) AddEventHandlerWithOptions(h toolscache.ResourceEventHandler,
	_ toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	return s.AddEventHandler(h)
}

// RemoveEventHandler stops telling a handler.
func (s *Store) RemoveEventHandler(handle toolscache.ResourceEventHandlerRegistration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers = slices.DeleteFunc(s.handlers, func(r *registration) bool { return r == handle })
	return nil
}

// AddIndexers refuses: a Store keeps no objects to index.
func (s *Store) AddIndexers(toolscache.Indexers) error {
	return errors.New("rbacstore: the " + s.kind.Name + " store keeps no indexes")
}

// HasSynced reports whether the reflector's first list is in.
func (s *Store) HasSynced() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.synced
}

// HasSyncedChecker is HasSynced as a channel.
func (s *Store) HasSyncedChecker() toolscache.DoneChecker {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg := &registration{done: make(chan struct{}), name: s.kind.Name}
	if s.synced {
		reg.markSynced()
	} else {
		s.handlers = append(s.handlers, reg) // told when synced; has no handler
	}
	return reg
}

// IsStopped reports whether the store's reflector stopped.
func (s *Store) IsStopped() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.stopped
}

func (s *Store) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
}

func (s *Store) notifyAdd(o client.Object, initial bool) {
	for _, h := range s.handlers {
		if h.handler != nil {
			h.handler.OnAdd(o, initial)
		}
	}
}

func (s *Store) notifyUpdate(old, cur client.Object) {
	for _, h := range s.handlers {
		if h.handler != nil {
			h.handler.OnUpdate(old, cur)
		}
	}
}

func (s *Store) notifyDelete(o client.Object) {
	for _, h := range s.handlers {
		if h.handler != nil {
			h.handler.OnDelete(o)
		}
	}
}

// registration is one handler of a Store, and says when it has been told of
// the first list.
type registration struct {
	handler toolscache.ResourceEventHandler
	name    string
	once    sync.Once
	done    chan struct{}
}

func (r *registration) markSynced() { r.once.Do(func() { close(r.done) }) }

// HasSynced reports whether the handler has been told of the first list.
func (r *registration) HasSynced() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// HasSyncedChecker is the registration itself, as a DoneChecker.
func (r *registration) HasSyncedChecker() toolscache.DoneChecker { return r }

// Name names what is waited for.
func (r *registration) Name() string { return "rbacstore " + r.name }

// Done is closed once the handler has been told of the first list.
func (r *registration) Done() <-chan struct{} { return r.done }
