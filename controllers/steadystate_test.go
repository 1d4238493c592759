package controllers

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/spacepass"
	"github.com/opencommons/collab-operator/internal/spacepass/forumphase"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
	"github.com/opencommons/collab-operator/internal/testing/writecount"
)

// TestSteadyStateMakesNoWrites runs a second reconciler over a space the manager has
// already made Ready: it must find nothing to do and write nothing, not even an event.
func TestSteadyStateMakesNoWrites(t *testing.T) {
	ns := newNamespace(t)
	space := forumSpace(ns, "finance") // RBAC and a deployed forum with all its objects
	createSpace(t, space)
	startForum(t, ns, "finance")
	waitReady(t, client.ObjectKeyFromObject(space))

	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	counter := &writecount.Counter{}
	recorder := events.NewFakeRecorder(10)
	r := &spacepass.Pass{
		Client:   counter.Wrap(direct),
		Scheme:   testenv.Scheme(),
		Recorder: recorder,
		Forum:    forumphase.Settings{OperatorNamespace: "collab-system", EndpointOverride: forumAPI},
		Forums: forum.Engines{&nodebb.Connector{Observer: func(method, op string, _ int, _ time.Duration) {
			if method != http.MethodGet {
				counter.Add("forum "+method+" "+op, &corev1.ConfigMap{})
			}
		}}},
	}
	for pass := 1; pass <= 2; pass++ {
		if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(space)}); err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
	}
	if len(counter.Writes()) != 0 {
		t.Errorf("a steady-state pass wrote to the API server: %v", counter.Writes())
	}
	if n := len(recorder.Events); n != 0 {
		t.Errorf("a steady-state pass emitted %d events, first: %s", n, <-recorder.Events)
	}

	// The counter does see writes made through the reconciler's client.
	probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns}}
	if err := r.Create(context.Background(), probe); err != nil {
		t.Fatal(err)
	}
	if want := []string{"create *v1.ConfigMap probe"}; !slices.Equal(counter.Writes(), want) {
		t.Errorf("the write counter saw %v, want %v", counter.Writes(), want)
	}
}
