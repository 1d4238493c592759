package managercfg

import (
	"context"

	eventsv1 "k8s.io/api/events/v1"
	eventsv1client "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// EventRecorder is the operator's event recorder: client-go's events/v1
// broadcaster, as controller-runtime's GetEventRecorder makes it, with one
// difference. The broadcaster remembers each event it sent, as the API server
// returned it, for 6 to 12 minutes to fold repeats into a series; the copy
// the server returns carries its managed fields, which the series never
// read. At 10,000 new spaces (an event each) they were 6 MiB of the
// manager's live heap; leanSink drops them.
func EventRecorder(mgr ctrl.Manager, name string) (events.EventRecorder, error) {
	client, err := eventsv1client.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, err
	}
	broadcaster := events.NewBroadcaster(leanSink{&events.EventSinkImpl{Interface: client}})
	if err := mgr.Add(recording{broadcaster}); err != nil {
		return nil, err
	}
	return broadcaster.NewRecorder(mgr.GetScheme(), name), nil
}

// recording sends the events to the API server while the manager runs, on
// every replica (a standby emits nothing, as its controllers do not run).
type recording struct{ events.EventBroadcaster }

func (r recording) Start(ctx context.Context) error {
	if err := r.StartRecordingToSinkWithContext(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	r.Shutdown()
	return nil
}

func (recording) NeedLeaderElection() bool { return false }

var _ manager.LeaderElectionRunnable = recording{}

// leanSink is an events sink whose answers keep no managed fields.
type leanSink struct{ events.EventSink }

func (s leanSink) Create(ctx context.Context, e *eventsv1.Event) (*eventsv1.Event, error) {
	return lean(s.EventSink.Create(ctx, e))
}

func (s leanSink) Update(ctx context.Context, e *eventsv1.Event) (*eventsv1.Event, error) {
	return lean(s.EventSink.Update(ctx, e))
}

func (s leanSink) Patch(ctx context.Context, old *eventsv1.Event, data []byte) (*eventsv1.Event, error) {
	return lean(s.EventSink.Patch(ctx, old, data))
}

func lean(e *eventsv1.Event, err error) (*eventsv1.Event, error) {
	if e != nil {
		e.ManagedFields = nil
	}
	return e, err
}
