package managercfg

import (
	eventsv1client "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/opencommons/collab-operator/internal/eventrecorder"
)

// EventRecorder is the operator's event recorder, run by the manager on every
// replica (a standby's controllers record nothing). It is not client-go's
// broadcaster, which controller-runtime's GetEventRecorder makes: that one
// keeps every event it sent for 6 to 12 minutes and starts goroutines per
// event, a quarter of the manager's heap after 10,000 spaces were created
// (package eventrecorder).
func EventRecorder(mgr ctrl.Manager, name string) (events.EventRecorder, error) {
	client, err := eventsv1client.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, err
	}
	recorder := eventrecorder.New(eventrecorder.APISink{Client: client}, mgr.GetScheme(), name,
		eventrecorder.Defaults, ctrl.Log.WithName("events"))
	if err := mgr.Add(recorder); err != nil {
		return nil, err
	}
	return recorder, nil
}
