package eventrecorder

import (
	"context"
	"encoding/json"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	eventsv1client "k8s.io/client-go/kubernetes/typed/events/v1"
)

// Sink writes events to the API server.
type Sink interface {
	Create(ctx context.Context, e *eventsv1.Event) error
	PatchSeries(ctx context.Context, namespace, name string, series eventsv1.EventSeries) error
}

// APISink writes with the events/v1 client. What the server answers is not
// kept: the recorder needs no more than the event's name.
type APISink struct {
	Client eventsv1client.EventsV1Interface
}

func (a APISink) Create(ctx context.Context, e *eventsv1.Event) error {
	_, err := a.Client.Events(e.Namespace).Create(ctx, e, metav1.CreateOptions{})
	return err
}

func (a APISink) PatchSeries(ctx context.Context, namespace, name string, series eventsv1.EventSeries) error {
	patch, err := json.Marshal(map[string]any{"series": series})
	if err != nil {
		return err
	}
	_, err = a.Client.Events(namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}
