// Package eventrecorder sends the operator's events to the API server with
// memory that does not grow with the number of objects they speak of.
//
// client-go's events/v1 broadcaster keeps every event it sent, whole, for 6
// to 12 minutes to fold repeats into a series, and starts two goroutines per
// event that wait on the API server side by side. After 10,000 spaces were
// created at once that was a quarter of the manager's heap, and twice that
// when each space said two things. This recorder folds repeats the same way
// (same type, reason, action, objects and note), remembering about 150 bytes
// of at most MaxSeries events, and sends from a bounded queue: when the API
// server cannot keep up, the events that do not fit are dropped and counted
// (collab_events_total{outcome="dropped"}), never queued without bound.
package eventrecorder

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/record/util"
	"k8s.io/client-go/tools/reference"
)

// Options bound what the recorder holds.
type Options struct {
	// MaxSeries is how many sent events are remembered to fold repeats into.
	MaxSeries int
	// Window is how long after it was last seen an event still folds repeats,
	// as client-go's 6 minutes.
	Window time.Duration
	// WriteEvery is how often at most a series' count is written.
	WriteEvery time.Duration
	// Queue is how many events may wait to be sent, per sender.
	Queue int
	// Senders send side by side, each its own share of the events.
	Senders int
}

// Defaults: about 600 KiB remembered and 1 MiB queued at most.
var Defaults = Options{MaxSeries: 4096, Window: 6 * time.Minute, WriteEvery: 30 * time.Second, Queue: 256, Senders: 4}

// Recorder is an events.EventRecorder. Start runs its senders.
type Recorder struct {
	scheme     *runtime.Scheme
	controller string
	instance   string
	now        func() time.Time
	senders    []*sender
	log        logr.Logger
}

var _ events.EventRecorder = (*Recorder)(nil)

// New makes a recorder that reports as controller, through sink.
func New(sink Sink, scheme *runtime.Scheme, controller string, opts Options, log logr.Logger) *Recorder {
	hostname, _ := os.Hostname()
	r := &Recorder{scheme: scheme, controller: controller, instance: controller + "-" + hostname, now: time.Now, log: log}
	per := max(opts.MaxSeries/max(opts.Senders, 1), 1)
	for range max(opts.Senders, 1) {
		r.senders = append(r.senders, &sender{
			sink: sink, queue: make(chan queued, opts.Queue), memory: newSeriesMemory(per, opts.Window),
			writeEvery: opts.WriteEvery, now: r.now, log: log,
		})
	}
	return r
}

// queued is an event waiting to be sent, with the key its repeats share.
type queued struct {
	key   uint64
	event *eventsv1.Event
}

// Eventf records an event about regarding, as client-go's recorder does; it
// never waits for the API server.
func (r *Recorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	if !util.ValidateEventType(eventtype) {
		r.log.Error(nil, "unsupported event type", "type", eventtype, "reason", reason)
		return
	}
	ref, err := reference.GetReference(r.scheme, regarding)
	if err != nil {
		r.log.Error(err, "no reference for an event, not recorded", "reason", reason)
		return
	}
	var relatedRef *corev1.ObjectReference
	if related != nil {
		relatedRef, _ = reference.GetReference(r.scheme, related)
	}
	now := r.now()
	e := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: util.GenerateEventName(ref.Name, now.UnixNano()), Namespace: ref.Namespace},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: r.controller,
		ReportingInstance:   r.instance,
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Related:             relatedRef,
		Note:                fmt.Sprintf(note, args...),
		Type:                eventtype,
	}
	if e.Namespace == "" {
		e.Namespace = metav1.NamespaceDefault
	}
	key := keyOf(e)
	s := r.senders[key%uint64(len(r.senders))]
	select {
	case s.queue <- queued{key: key, event: e}:
	default:
		countEvent(outcomeDropped)
	}
}

// Start sends until ctx ends. It runs on every replica: a standby's
// controllers record nothing.
func (r *Recorder) Start(ctx context.Context) error {
	var senders sync.WaitGroup
	for _, s := range r.senders {
		senders.Go(func() { s.run(ctx) })
	}
	senders.Wait()
	return nil
}

// NeedLeaderElection: every replica sends what its own controllers record.
func (*Recorder) NeedLeaderElection() bool { return false }

// keyOf is what repeats of an event share: client-go's key and the note.
func keyOf(e *eventsv1.Event) uint64 {
	h := fnv.New64a()
	write := func(parts ...string) {
		for _, p := range parts {
			_, _ = h.Write([]byte(p))
			_, _ = h.Write([]byte{0})
		}
	}
	ref := func(r *corev1.ObjectReference) {
		if r == nil {
			write("")
			return
		}
		write(r.APIVersion, r.Kind, r.Namespace, r.Name, string(r.UID), r.FieldPath)
	}
	write(e.Type, e.Reason, e.Action, e.ReportingController, e.ReportingInstance, e.Note)
	ref(&e.Regarding)
	ref(e.Related)
	return h.Sum64()
}
