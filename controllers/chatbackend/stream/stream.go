// Package stream owns the ChatBackends' /sync streams: one long poll per backend
// that wakes the space owning a changed room within a second, keeps the stream
// position in the backend's status, and tells a resumed pass which rooms may have
// changed unseen (epochs). The ChatBackend controller starts and stops them; the
// space controller listens to their wake-ups.
package stream

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/livecount"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/spaceindex"
	"github.com/opencommons/collab-operator/internal/statuspatch"
)

// Stream timings.
const (
	// syncTimeout is how long one long poll waits for a change.
	syncTimeout = 20 * time.Second
	// syncTokenSaveInterval is how often a moving stream position is saved in the
	// backend's status, so a restart resumes from it.
	syncTokenSaveInterval = 30 * time.Second
	// syncQuiet is the least time between two long polls that brought nothing to
	// act on: while the operator itself is busy making rooms, every event of its
	// own ends a long poll at once, and the server's work for that would otherwise
	// grow with the operator's (measured by make bench).
	syncQuiet = time.Second
	// syncRetryMax caps the wait between failed long polls. The stream is also how
	// a ChatBackend learns that its server is back (setHealth wakes it), so the
	// cap is what "within seconds" costs: one refused request every 5 s while the
	// server is down.
	syncRetryMax = 5 * time.Second
	// WakeInterval is the least time between two wake-ups of one space by the
	// stream. A person's display name change is an m.room.member event in every
	// room they are in, and a flood of them must not cost a full pass per event:
	// the wake-ups of one space within the interval become one, at its end.
	WakeInterval = time.Second
)

// Streams keeps one /sync stream per ChatBackend. A change someone makes on
// the chat server wakes the space that owns the room within about a second, at a
// cost that follows the changes rather than the number of rooms, so the safety
// net poll (ChatBackend spec.pollInterval) can be rare. It runs on the leader
// only.
type Streams struct {
	// Client reads spaces by room id and saves stream positions.
	Client client.Client
	// Spaces receives the spaces to wake; Backends the backends whose stream
	// started or failed.
	Spaces, Backends chan event.GenericEvent
	// ReadOnly streams do not save their position in the backend's status: a
	// shard's (shard.go), whose backends another manager writes.
	ReadOnly bool
	// CountMessages has the streams carry the rooms' messages too, counted for
	// the openness insights (Counter); where the insights are computed.
	CountMessages bool
	// CountPages bounds the requests that read one room's past for the counts.
	CountPages int

	mu      sync.Mutex
	ctx     context.Context
	streams map[string]*syncStream
	// epochs count, per backend, the moments after which a room may have
	// changed unseen: a change reported, a failure, a (re)start. A pass resumed
	// from a checkpoint (resume.go) trusts a room it read in an earlier epoch
	// only if the stream has not broken since (breaks) and reported no change
	// of that room since (changed).
	epochs map[string]uint64
	// breaks is, per backend, the epoch of the last failure or (re)start: any
	// room may have changed unseen then.
	breaks map[string]uint64
	// changed is, per backend, the epoch in which each room was last reported
	// changed. It is cleared when it grows past maxChangedRooms, which counts as
	// a break.
	changed map[string]map[string]uint64

	// counters are the backends' live counts, while their streams run (count.go).
	counters map[string]*livecount.Counter

	wakeOnce sync.Once
	wakes    *coalescer
}

// New returns streams that wake spaces and backends through channels.
func New(c client.Client) *Streams {
	return &Streams{Client: c, Spaces: make(chan event.GenericEvent, 1024), Backends: make(chan event.GenericEvent, 16),
		streams: map[string]*syncStream{}}
}

// coalescer passes on at most one wake-up per space per interval. The first
// wake-up after a quiet interval goes at once; the ones that follow within the
// interval are held, and one of them goes at its end, so the last change is
// never left unseen. now and after are the clock (time.Now, time.AfterFunc),
// send delivers a wake-up.
type coalescer struct {
	interval time.Duration
	now      func() time.Time
	after    func(time.Duration, func())
	send     func(types.NamespacedName)

	mu      sync.Mutex
	last    map[types.NamespacedName]time.Time
	pending map[types.NamespacedName]bool
}

func newCoalescer(interval time.Duration, send func(types.NamespacedName)) *coalescer {
	return &coalescer{interval: interval, now: time.Now, send: send,
		after: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

// wake asks for a wake-up of space.
func (c *coalescer) wake(space types.NamespacedName) {
	c.mu.Lock()
	if c.last == nil {
		c.last, c.pending = map[types.NamespacedName]time.Time{}, map[types.NamespacedName]bool{}
	}
	if c.pending[space] {
		c.mu.Unlock()
		return // a wake-up is already due at the end of the interval
	}
	now := c.now()
	if last, ok := c.last[space]; ok && now.Sub(last) < c.interval {
		c.pending[space] = true
		c.after(last.Add(c.interval).Sub(now), func() { c.fire(space) })
		c.mu.Unlock()
		return
	}
	c.last[space] = now
	c.forgetQuiet(now)
	c.mu.Unlock()
	c.send(space)
}

// fire sends the wake-up held for space.
func (c *coalescer) fire(space types.NamespacedName) {
	c.mu.Lock()
	delete(c.pending, space)
	c.last[space] = c.now()
	c.mu.Unlock()
	c.send(space)
}

// forgetQuiet drops the spaces not woken for an interval, so the map holds only
// the spaces that are busy now; called with mu held.
func (c *coalescer) forgetQuiet(now time.Time) {
	if len(c.last) < 1024 {
		return
	}
	for space, last := range c.last {
		if now.Sub(last) >= c.interval && !c.pending[space] {
			delete(c.last, space)
		}
	}
}

type syncStream struct {
	client chat.Client
	cancel context.CancelFunc

	mu      sync.Mutex
	healthy bool
	lastErr string
}

// Start runs until the manager stops; streams start once it has.
func (s *Streams) Start(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	<-ctx.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, st := range s.streams {
		st.cancel()
		delete(s.streams, name)
	}
	return nil
}

// NeedLeaderElection: only the leader streams, as only it reconciles.
func (s *Streams) NeedLeaderElection() bool { return true }

// Ensure runs the backend's stream with c, resuming from since. A stream that
// already runs with the same client is left alone; one with another client (new
// credentials or URL) is restarted. It reports whether the stream runs.
func (s *Streams) Ensure(backend string, c chat.Client, since string) bool {
	syncer, ok := c.(chat.Syncer)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return false // the manager has not started, or does not lead
	}
	if st, ok := s.streams[backend]; ok {
		if st.client == c {
			return true
		}
		st.cancel()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	st := &syncStream{client: c, cancel: cancel}
	s.streams[backend] = st
	s.breakLocked(backend)
	go s.run(ctx, backend, st, s.counting(backend, c, syncer), since)
	return true
}

// Stop ends the backend's stream, when the backend goes.
func (s *Streams) Stop(backend string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[backend]; ok {
		st.cancel()
		delete(s.streams, backend)
	}
	delete(s.counters, backend)
}

// Status reports whether the backend's stream runs and delivers, and the last
// failure when it does not.
func (s *Streams) Status(backend string) (healthy bool, lastErr string) {
	if s == nil {
		return false, ""
	}
	s.mu.Lock()
	st, ok := s.streams[backend]
	s.mu.Unlock()
	if !ok {
		return false, ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.healthy, st.lastErr
}

// Epoch is the backend's current epoch, and whether its stream runs and
// delivers: only then does an unchanged epoch mean no room changed unseen.
func (s *Streams) Epoch(backend string) (uint64, bool) {
	healthy, _ := s.Status(backend)
	if !healthy {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.epochs[backend], true
}

// maxChangedRooms bounds the rooms a backend's changed map holds.
const maxChangedRooms = 4096

// ChangedSince reports whether room may have changed on the backend after epoch:
// the stream reported a change of it, or broke, since.
func (s *Streams) ChangedSince(backend string, epoch uint64, room string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.breaks[backend] > epoch || s.changed[backend][room] > epoch
}

// Bump starts a new epoch for the backend in which any room may have changed.
func (s *Streams) Bump(backend string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.breakLocked(backend)
}

func (s *Streams) breakLocked(backend string) {
	if s.breaks == nil {
		s.breaks = map[string]uint64{}
	}
	s.breaks[backend] = s.bumpLocked(backend)
	delete(s.changed, backend)
}

// changedRooms starts a new epoch for the backend in which rooms changed.
func (s *Streams) changedRooms(backend string, rooms []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.changed[backend])+len(rooms) > maxChangedRooms {
		s.breakLocked(backend)
		return
	}
	epoch := s.bumpLocked(backend)
	if s.changed == nil {
		s.changed = map[string]map[string]uint64{}
	}
	if s.changed[backend] == nil {
		s.changed[backend] = map[string]uint64{}
	}
	for _, room := range rooms {
		s.changed[backend][room] = epoch
	}
}

func (s *Streams) bumpLocked(backend string) uint64 {
	if s.epochs == nil {
		s.epochs = map[string]uint64{}
	}
	s.epochs[backend]++
	return s.epochs[backend]
}

// run long-polls until ctx ends: each batch wakes the spaces that own the rooms
// it names; a failure marks the stream unhealthy (spaces fall back to polling)
// and is retried with backoff; the position is saved now and then.
func (s *Streams) run(ctx context.Context, backend string, st *syncStream, c batchSource, since string) {
	log := ctrl.Log.WithName("sync").WithValues("ChatBackend", backend)
	backoff := time.Second
	saved, savedAt := since, time.Now()
	if c.counter != nil && since != "" {
		c.counter.Begin(ctx, since) // resumed: the rooms' past ends where the stream resumes
	}
	for ctx.Err() == nil {
		started := time.Now()
		batch, err := c.next(ctx, since)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if since != "" && isUnknownPosition(err) {
				log.Info("Stream position unknown to the server; restarting from now and checking every space")
				since = ""
				s.Bump(backend)
				s.wakeAll(ctx, backend)
				continue
			}
			s.Bump(backend)
			s.setHealth(backend, st, false, err.Error())
			log.V(1).Info("Sync failed; retrying", "error", err.Error(), "backoff", backoff)
			if sleep(ctx, backoff) != nil {
				return
			}
			backoff = min(2*backoff, syncRetryMax)
			continue
		}
		backoff = time.Second
		s.setHealth(backend, st, true, "")
		since = batch.Next
		if len(batch.Changed) > 0 {
			s.changedRooms(backend, batch.Changed) // before the wake-ups, so the passes they cause read those rooms afresh
		}
		for _, room := range batch.Changed {
			s.wakeOwner(ctx, backend, room)
		}
		saved, savedAt = s.keepPosition(ctx, backend, since, saved, savedAt)
		if len(batch.Changed) == 0 && time.Since(started) < syncQuiet {
			if sleep(ctx, syncQuiet-time.Since(started)) != nil {
				return
			}
		}
	}
}

// keepPosition saves the stream position in the backend's status when it moved
// and the last save is syncTokenSaveInterval old, unless the streams are
// ReadOnly; it returns the position last saved and when.
func (s *Streams) keepPosition(ctx context.Context, backend, since, saved string, savedAt time.Time) (string, time.Time) {
	if s.ReadOnly || since == saved || time.Since(savedAt) <= syncTokenSaveInterval {
		return saved, savedAt
	}
	if s.save(ctx, backend, since) != nil {
		return saved, savedAt
	}
	return since, time.Now()
}

// setHealth records the stream's state and wakes the backend when it changed, so
// its conditions say so within seconds.
func (s *Streams) setHealth(backend string, st *syncStream, healthy bool, lastErr string) {
	st.mu.Lock()
	changed := st.healthy != healthy
	st.healthy, st.lastErr = healthy, lastErr
	st.mu.Unlock()
	if changed {
		b := &collabv1.ChatBackend{}
		b.Name = backend
		select {
		case s.Backends <- event.GenericEvent{Object: b}:
		default:
		}
	}
}

// wakeOwner wakes the space whose room changed.
func (s *Streams) wakeOwner(ctx context.Context, backend, roomID string) {
	var spaces collabv1.CollaborationSpaceList
	if err := s.Client.List(ctx, &spaces, client.MatchingFields{spaceindex.Rooms: roomID}); err != nil {
		return
	}
	for i := range spaces.Items {
		if !slices.Contains(spaceindex.ChatBackendOf(&spaces.Items[i]), backend) {
			continue // a space of another backend on the same server and account: its own stream wakes it
		}
		metrics.SyncWakeups.WithLabelValues(backend).Inc()
		s.Wake(&spaces.Items[i])
	}
}

// wakeAll wakes every space on the backend: the stream lost its place, so any
// change may have been missed.
func (s *Streams) wakeAll(ctx context.Context, backend string) {
	var spaces collabv1.CollaborationSpaceList
	if err := s.Client.List(ctx, &spaces, client.MatchingFields{spaceindex.ChatBackend: backend}); err != nil {
		return
	}
	for i := range spaces.Items {
		s.Wake(&spaces.Items[i])
	}
}

// Wake wakes a space, at most once per wakeInterval (coalescer).
func (s *Streams) Wake(space *collabv1.CollaborationSpace) {
	s.wakeOnce.Do(func() {
		if s.wakes == nil {
			s.wakes = newCoalescer(WakeInterval, s.send)
		}
	})
	s.wakes.wake(types.NamespacedName{Namespace: space.Namespace, Name: space.Name})
}

// send puts a wake-up on the Spaces channel, unless the manager is stopping.
func (s *Streams) send(space types.NamespacedName) {
	s.mu.Lock()
	done := s.ctx
	s.mu.Unlock()
	if done == nil {
		done = context.Background()
	}
	obj := &collabv1.CollaborationSpace{}
	obj.Namespace, obj.Name = space.Namespace, space.Name
	select {
	case s.Spaces <- event.GenericEvent{Object: obj}:
	case <-done.Done():
	}
}

// save stores the stream position in the backend's status.
func (s *Streams) save(ctx context.Context, backend, since string) error {
	b := &collabv1.ChatBackend{}
	if err := s.Client.Get(ctx, types.NamespacedName{Name: backend}, b); err != nil {
		return err
	}
	before := b.DeepCopy()
	b.Status.SyncToken = since
	return statuspatch.Patch(ctx, s.Client, before, b) // the position only: no condition
}

// isUnknownPosition reports whether the server no longer knows a stream position.
func isUnknownPosition(err error) bool { return errors.Is(err, chat.ErrUnknownPosition) }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Holding returns streams that report each backend's stream as running, without
// running one: for tests of what a space's pass makes of a stream's state.
func Holding(backends ...string) *Streams {
	s := &Streams{streams: map[string]*syncStream{}}
	for _, b := range backends {
		s.streams[b] = &syncStream{healthy: true}
	}
	return s
}

// SetHealthy says whether a backend's stream runs (Status), as the stream does
// when it fails or recovers.
func (s *Streams) SetHealthy(backend string, healthy bool) {
	s.mu.Lock()
	st := s.streams[backend]
	s.mu.Unlock()
	st.mu.Lock()
	st.healthy = healthy
	st.mu.Unlock()
}
