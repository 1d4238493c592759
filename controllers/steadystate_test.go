package controllers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// writeCounter counts every request that would change something on the API server.
type writeCounter struct {
	mu     sync.Mutex
	writes []string
}

func (w *writeCounter) add(op string, obj client.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, fmt.Sprintf("%s %T %s", op, obj, obj.GetName()))
}

func (w *writeCounter) funcs() interceptor.Funcs {
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			w.add("create", obj)
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			w.add("update", obj)
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			w.add("patch", obj)
			return c.Patch(ctx, obj, p, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			w.add("delete", obj)
			return c.Delete(ctx, obj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			w.add("update/"+sub, obj)
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			w.add("patch/"+sub, obj)
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
	}
}

// TestSteadyStateMakesNoWrites runs a second reconciler over a space the manager has
// already made Ready: it must find nothing to do and write nothing, not even an event.
func TestSteadyStateMakesNoWrites(t *testing.T) {
	ns := newNamespace(t)
	space := forumSpace(ns, "finance") // RBAC and a deployed forum with all its objects
	createSpace(t, space)
	markAvailable(t, client.ObjectKey{Namespace: ns, Name: "finance-forum"})
	provideForumToken(t, ns, "finance")
	waitReady(t, client.ObjectKeyFromObject(space))

	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	counter := &writeCounter{}
	recorder := events.NewFakeRecorder(10)
	r := &CollaborationSpaceReconciler{
		Client:   interceptor.NewClient(direct, counter.funcs()),
		Scheme:   testenv.Scheme(),
		Recorder: recorder,
		Forum:    ForumSettings{OperatorNamespace: "collab-system", EndpointOverride: forumAPI},
		ForumConnector: &NodeBBConnector{Observer: func(method, op string, _ int, _ time.Duration) {
			if method != http.MethodGet {
				counter.add("forum "+method+" "+op, &corev1.ConfigMap{})
			}
		}},
	}
	for pass := 1; pass <= 2; pass++ {
		if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(space)}); err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
	}
	if len(counter.writes) != 0 {
		t.Errorf("a steady-state pass wrote to the API server: %v", counter.writes)
	}
	if n := len(recorder.Events); n != 0 {
		t.Errorf("a steady-state pass emitted %d events, first: %s", n, <-recorder.Events)
	}

	// The counter does see writes made through the reconciler's client.
	probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns}}
	if err := r.Create(context.Background(), probe); err != nil {
		t.Fatal(err)
	}
	if want := []string{"create *v1.ConfigMap probe"}; !slices.Equal(counter.writes, want) {
		t.Errorf("the write counter saw %v, want %v", counter.writes, want)
	}
}
