package managercfg

import (
	"context"
	"errors"
	"testing"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// answering is an events sink that answers as the API server does: the event
// back, with its managed fields.
type answering struct{ err error }

func (a answering) answer(e *eventsv1.Event) (*eventsv1.Event, error) {
	out := e.DeepCopy()
	out.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "collab-operator", Operation: metav1.ManagedFieldsOperationUpdate,
		FieldsV1: metav1.NewFieldsV1(`{"f:note":{},"f:reason":{},"f:regarding":{}}`)}}
	return out, a.err
}

func (a answering) Create(_ context.Context, e *eventsv1.Event) (*eventsv1.Event, error) {
	return a.answer(e)
}
func (a answering) Update(_ context.Context, e *eventsv1.Event) (*eventsv1.Event, error) {
	return a.answer(e)
}
func (a answering) Patch(_ context.Context, e *eventsv1.Event, _ []byte) (*eventsv1.Event, error) {
	return a.answer(e)
}

// TestTheRecorderRemembersEventsWithoutManagedFields: what the broadcaster
// keeps of each event it sent is the server's answer less its managed fields,
// the rest as the server said it, whichever way it was written; an error
// passes through.
func TestTheRecorderRemembersEventsWithoutManagedFields(t *testing.T) {
	sent := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "team.1", Namespace: "dept"}, Reason: "Created", Note: "Created Role r"}
	failure := errors.New("the API server is away")
	for name, write := range map[string]func(leanSink) (*eventsv1.Event, error){
		"create": func(s leanSink) (*eventsv1.Event, error) { return s.Create(context.Background(), sent) },
		"update": func(s leanSink) (*eventsv1.Event, error) { return s.Update(context.Background(), sent) },
		"patch":  func(s leanSink) (*eventsv1.Event, error) { return s.Patch(context.Background(), sent, []byte(`{}`)) },
	} {
		t.Run(name, func(t *testing.T) {
			got, err := write(leanSink{answering{}})
			if err != nil || got.ManagedFields != nil || got.Name != sent.Name || got.Note != sent.Note {
				t.Errorf("kept %+v (%v), want the event without managed fields", got, err)
			}
			if _, err := write(leanSink{answering{err: failure}}); !errors.Is(err, failure) {
				t.Errorf("error %v, want the sink's", err)
			}
		})
	}
}
