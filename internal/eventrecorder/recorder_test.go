package eventrecorder

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// memorySink is an API server in memory: the events and how often each
// write was tried.
type memorySink struct {
	mu      sync.Mutex
	events  map[string]*eventsv1.Event
	tries   int
	fail    func(try int) error // the error of each try, if any
	blocked chan struct{}       // while open, writes wait
}

func newMemorySink() *memorySink { return &memorySink{events: map[string]*eventsv1.Event{}} }

func (m *memorySink) write(apply func()) error {
	if m.blocked != nil {
		<-m.blocked
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tries++
	if m.fail != nil {
		if err := m.fail(m.tries); err != nil {
			return err
		}
	}
	apply()
	return nil
}

func (m *memorySink) Create(_ context.Context, e *eventsv1.Event) error {
	return m.write(func() { m.events[e.Namespace+"/"+e.Name] = e.DeepCopy() })
}

func (m *memorySink) PatchSeries(_ context.Context, ns, name string, s eventsv1.EventSeries) error {
	var err error
	werr := m.write(func() {
		e, ok := m.events[ns+"/"+name]
		if !ok {
			err = apierrors.NewNotFound(schema.GroupResource{Group: "events.k8s.io", Resource: "events"}, name)
			return
		}
		e.Series = s.DeepCopy()
	})
	if werr != nil {
		return werr
	}
	return err
}

func (m *memorySink) snapshot() []eventsv1.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []eventsv1.Event
	for _, e := range m.events {
		out = append(out, *e.DeepCopy())
	}
	return out
}

func space(ns string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team", UID: "u-" + "team"}}
}

func start(t *testing.T, sink Sink, opts Options) *Recorder {
	t.Helper()
	r := New(sink, clientgoscheme.Scheme, "collab-operator", opts, logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

// TestRepeatsFoldIntoASeries: a lead reading the events sees what happened
// once per thing said, with how often it happened: the same note about the
// same object is one event whose series counts the repeats, written at most
// every WriteEvery; another note is another event.
func TestRepeatsFoldIntoASeries(t *testing.T) {
	sink := newMemorySink()
	r := start(t, sink, Options{MaxSeries: 16, Window: time.Minute, WriteEvery: 100 * time.Millisecond, Queue: 16, Senders: 2})
	for range 5 {
		r.Eventf(space("dept"), nil, corev1.EventTypeWarning, "BackendUnreachable", "Reconcile", "chat server %s unreachable", "m1")
	}
	r.Eventf(space("dept"), nil, corev1.EventTypeNormal, "RoomCreated", "Reconcile", "Created room #general")
	eventually(t, "two events, one counting five", func() bool {
		events := sink.snapshot()
		if len(events) != 2 {
			return false
		}
		for _, e := range events {
			if e.Reason == "BackendUnreachable" && (e.Series == nil || e.Series.Count != 5 || e.Note != "chat server m1 unreachable") {
				return false
			}
			if e.Reason == "RoomCreated" && e.Series != nil {
				return false
			}
		}
		return true
	})
	for _, e := range sink.snapshot() {
		if e.Regarding.Name != "team" || e.Regarding.Namespace != "dept" || e.Namespace != "dept" || e.ReportingController != "collab-operator" {
			t.Errorf("event %+v does not name its object and reporter", e)
		}
	}
}

// TestAFullQueueDropsInsteadOfWaiting: while the API server does not answer,
// recording neither blocks the caller nor grows the manager: what does not
// fit in the queue is dropped, with no goroutine per event.
func TestAFullQueueDropsInsteadOfWaiting(t *testing.T) {
	sink := newMemorySink()
	sink.blocked = make(chan struct{})
	r := start(t, sink, Options{MaxSeries: 16, Window: time.Minute, WriteEvery: time.Minute, Queue: 8, Senders: 2})
	before := runtime.NumGoroutine()
	dropped := counted(outcomeDropped)
	for i := range 10_000 {
		r.Eventf(space("dept"), nil, corev1.EventTypeNormal, "Created", "Reconcile", "Created Role %d", i)
	}
	if grew := runtime.NumGoroutine() - before; grew > 2 {
		t.Errorf("%d goroutines more while the API server waits, want none per event", grew)
	}
	if got := counted(outcomeDropped) - dropped; got < 10_000-2*8-2 {
		t.Errorf("%v events counted as dropped, want all but the queued", got)
	}
	close(sink.blocked)
	eventually(t, "the queued events sent", func() bool { n := len(sink.snapshot()); return n >= 2*8 && n <= 2*8+2 })
}

// TestTheMemoryIsBounded: 20,000 different events leave no more than
// MaxSeries of them remembered, and each is sent.
func TestTheMemoryIsBounded(t *testing.T) {
	sink := newMemorySink()
	r := New(sink, clientgoscheme.Scheme, "collab-operator", Options{MaxSeries: 100, Window: time.Hour, WriteEvery: time.Hour, Queue: 20_000, Senders: 4}, logr.Discard())
	for i := range 20_000 {
		r.Eventf(space("dept"), nil, corev1.EventTypeNormal, "Created", "Reconcile", "Created Role %d", i)
	}
	remembered := 0
	for _, s := range r.senders {
		for len(s.queue) > 0 {
			s.record(context.Background(), <-s.queue)
		}
		remembered += s.memory.len()
	}
	if remembered > 100 {
		t.Errorf("%d events remembered, want at most 100", remembered)
	}
	if sent := len(sink.snapshot()); sent != 20_000 {
		t.Errorf("%d events sent, want 20000", sent)
	}
}

// TestWritesAreTriedAgainOnlyWhenUnanswered: an API server that is away is
// tried again; one that refuses is not.
func TestWritesAreTriedAgainOnlyWhenUnanswered(t *testing.T) {
	retryAfter = time.Millisecond
	t.Cleanup(func() { retryAfter = time.Second })
	away := errors.New("connection refused")
	refused := apierrors.NewForbidden(schema.GroupResource{Resource: "events"}, "x", errors.New("namespace is terminating"))
	cases := []struct {
		name      string
		fail      func(try int) error
		wantTries int
		wantSent  bool
	}{
		{"away twice, then there", func(try int) error { return map[bool]error{true: away}[try <= 2] }, 3, true},
		{"away for good", func(int) error { return away }, tries, false},
		{"busy, then there", func(try int) error { return map[bool]error{true: apierrors.NewTooManyRequests("busy", 1)}[try == 1] }, 2, true},
		{"refused", func(int) error { return refused }, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink := newMemorySink()
			sink.fail = tc.fail
			s := &sender{sink: sink, memory: newSeriesMemory(4, time.Minute), writeEvery: time.Minute, now: time.Now, log: logr.Discard()}
			sent := s.create(context.Background(), &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "dept", Name: "e"}})
			if sent != tc.wantSent || sink.tries != tc.wantTries {
				t.Errorf("sent %v after %d tries, want %v after %d", sent, sink.tries, tc.wantSent, tc.wantTries)
			}
		})
	}
}
