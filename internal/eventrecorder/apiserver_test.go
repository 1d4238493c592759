package eventrecorder

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/opencommons/collab-operator/internal/testing/harness"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// TestOnARealAPIServer: what `kubectl get events` shows after the recorder
// spoke through a real kube-apiserver: one event per thing said, the
// repeated one with its series counting every time it happened.
func TestOnARealAPIServer(t *testing.T) {
	cfg := harness.New(t, harness.Options{}).Config
	kube := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dept"}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := New(APISink{Client: kube.EventsV1()}, testenv.Scheme(), "collab-operator",
		Options{MaxSeries: 16, Window: time.Minute, WriteEvery: 200 * time.Millisecond, Queue: 16, Senders: 2}, logr.Discard())
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = r.Start(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	for range 4 {
		r.Eventf(space("dept"), nil, corev1.EventTypeWarning, "BackendUnreachable", "Reconcile", "chat server unreachable")
	}
	r.Eventf(space("dept"), nil, corev1.EventTypeNormal, "RoomCreated", "Reconcile", "Created room #general")

	eventually(t, "two events, the repeated one counting 4", func() bool {
		list, err := kube.EventsV1().Events("dept").List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 2 {
			return false
		}
		for _, e := range list.Items {
			switch e.Reason {
			case "BackendUnreachable":
				if e.Series == nil || e.Series.Count != 4 || e.Note != "chat server unreachable" {
					return false
				}
			case "RoomCreated":
				if e.Series != nil || e.Regarding.Name != "team" || e.Type != corev1.EventTypeNormal {
					return false
				}
			default:
				return false
			}
		}
		return true
	})
}
