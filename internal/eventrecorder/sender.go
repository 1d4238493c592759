package eventrecorder

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sender sends one share of the events, one at a time, and keeps the series
// of what it sent.
type sender struct {
	sink       Sink
	queue      chan queued
	memory     *seriesMemory
	writeEvery time.Duration
	now        func() time.Time
	log        logr.Logger
}

// tries is how often a write the API server did not answer is tried.
const tries = 3

// retryAfter is the wait before the second try, doubled before the third.
var retryAfter = time.Second

func (s *sender) run(ctx context.Context) {
	tick := time.NewTicker(s.writeEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-s.queue:
			s.record(ctx, q)
		case <-tick.C:
			for _, se := range s.memory.sweep(s.now(), s.writeEvery) {
				s.writeSeries(ctx, se)
			}
		}
	}
}

// record sends a new event, or counts a repeat into the series of the one
// sent before; the count is written at most every writeEvery.
func (s *sender) record(ctx context.Context, q queued) {
	now := s.now()
	if se, repeat := s.memory.seen(q.key, now); repeat {
		countEvent(outcomeFolded)
		if now.Sub(se.lastWrite) >= s.writeEvery {
			s.writeSeries(ctx, se)
		}
		return
	}
	if !s.create(ctx, q.event) {
		return
	}
	if evicted := s.memory.remember(q.key, q.event.Namespace, q.event.Name, now); evicted != nil {
		s.writeSeries(ctx, evicted)
	}
}

func (s *sender) create(ctx context.Context, e *eventsv1.Event) bool {
	err := s.retry(ctx, func() error { return s.sink.Create(ctx, e) })
	if err != nil && !apierrors.IsAlreadyExists(err) {
		countEvent(outcomeFailed)
		s.log.Error(err, "event not recorded", "reason", e.Reason, "namespace", e.Namespace, "object", e.Regarding.Name)
		return false
	}
	countEvent(outcomeCreated)
	return true
}

// writeSeries tells the API server how often the event happened. An event
// the server no longer has (its TTL passed) is not made again: the next
// repeat is a new event.
func (s *sender) writeSeries(ctx context.Context, se *series) {
	count, last := se.count, se.last
	err := s.retry(ctx, func() error {
		return s.sink.PatchSeries(ctx, se.namespace, se.name, eventsv1.EventSeries{Count: count, LastObservedTime: metav1.NewMicroTime(last)})
	})
	se.lastWrite = s.now()
	switch {
	case err == nil:
		se.written = count
	case apierrors.IsNotFound(err):
		se.written = count
		s.memory.forget(se)
	default:
		countEvent(outcomeFailed)
		s.log.Error(err, "event series not written", "namespace", se.namespace, "event", se.name)
	}
}

// retry tries write again, up to tries times in all, when the API server
// could not answer or asked to wait; an answer that refuses is final.
func (s *sender) retry(ctx context.Context, write func() error) error {
	var err error
	for attempt := range tries {
		if err = write(); err == nil || !retriable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(retryAfter << attempt):
		}
	}
	return err
}

func retriable(err error) bool {
	if _, ok := err.(apierrors.APIStatus); !ok {
		return true // no answer from the server
	}
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err)
}
