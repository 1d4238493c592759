package rbacstore

import (
	"errors"
	"slices"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// A Store is the informer of its kind for the controllers' watches (Owns): its
// handlers get the trimmed objects, as an informer's would after the cache's
// transform. They are called with the store locked, in the order the
// reflector delivered the changes; controller-runtime's handlers only queue a
// request.
var _ cache.Informer = (*Store)(nil)

// AddEventHandler registers h; it is told of every object already held, as
// in an initial list, then of each change. It has synced once the store has:
// the store tells its handlers of its first list before it says so.
func (s *Store) AddEventHandler(h toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ns, records := range s.byNS {
		for _, r := range records {
			h.OnAdd(s.object(ns, r), true)
		}
	}
	reg := &registration{handler: h, synced: s.syncedChecker()}
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
func (s *Store) HasSynced() bool { return isDone(s.synced) }

// HasSyncedChecker is HasSynced as a channel.
func (s *Store) HasSyncedChecker() toolscache.DoneChecker { return s.syncedChecker() }

func (s *Store) syncedChecker() doneChecker {
	return doneChecker{name: "rbacstore " + s.kind.Name, done: s.synced}
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

// notify tells every handler, in the order they came.
func (s *Store) notify(tell func(toolscache.ResourceEventHandler)) {
	for _, h := range s.handlers {
		tell(h.handler)
	}
}

// registration is one handler of a Store.
type registration struct {
	handler toolscache.ResourceEventHandler
	synced  doneChecker
}

// HasSynced reports whether the handler has been told of the first list.
func (r *registration) HasSynced() bool { return isDone(r.synced.done) }

// HasSyncedChecker says, as a channel, when the handler has been told of the first list.
func (r *registration) HasSyncedChecker() toolscache.DoneChecker { return r.synced }

// doneChecker is a channel closed when something is done, with its name.
type doneChecker struct {
	name string
	done chan struct{}
}

func (d doneChecker) Name() string          { return d.name }
func (d doneChecker) Done() <-chan struct{} { return d.done }

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
