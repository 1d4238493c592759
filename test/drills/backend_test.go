package drills

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// The ChatBackend status drill of issue 9: before, a ChatBackend said Ready=True
// Connected for the whole time Dendrite was down, since it checked only every 5
// minutes.
// backendOutage is how long Dendrite stays down: long enough for any retry
// backoff to grow well past backendFollows (a backoff that doubles from
// milliseconds, as controller-runtime's does, waits some 20 s after 25 s of
// failures). 25 s in `make test`, 45 s under COLLAB_DRILLS=soak.
var backendOutage = window(25*time.Second, 45*time.Second)

const (
	// backendFollows bounds how long the ChatBackend's Ready condition takes to
	// follow its server, down and up: "within seconds".
	backendFollows = 10 * time.Second
)

var backendWorkload = workload{prefix: "follow", n: 2, rooms: []string{"general"}}

// TestChatBackendFollowsItsServer: with the backend's own poll an hour away,
// Dendrite stops; the ChatBackend must say Ready=False within backendFollows. It
// starts again after backendOutage; the ChatBackend must say Ready=True within
// backendFollows of that.
func TestChatBackendFollowsItsServer(t *testing.T) {
	parallel(t, false)
	r := newRig(t)
	ctx := context.Background()
	r.createChatBackend(t, r.homeserver.URL, time.Hour)
	r.createSpaces(t, backendWorkload)
	r.startManagerProcess(t)
	r.waitAllReady(t, backendWorkload, 2*time.Minute, false)
	if _, err := r.waitBackend(ctx, metav1.ConditionTrue, time.Minute); err != nil {
		t.Fatal(err)
	}

	if err := r.homeserver.Halt(); err != nil {
		t.Fatalf("cannot stop Dendrite: %v", err)
	}
	down, err := r.waitBackend(ctx, metav1.ConditionFalse, backendOutage)
	if err != nil {
		t.Error(err)
	}
	time.Sleep(backendOutage - down)
	if err := r.homeserver.Restart(ctx); err != nil {
		t.Fatalf("cannot start Dendrite again: %v", err)
	}
	up, err := r.waitBackend(ctx, metav1.ConditionTrue, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if down > backendFollows || up > backendFollows {
		t.Errorf("the ChatBackend said Ready=False %s after Dendrite stopped and Ready=True %s after it was back, want both within %s",
			down.Round(100*time.Millisecond), up.Round(100*time.Millisecond), backendFollows)
	}
	t.Logf("drill result: ChatBackend Ready=False %s after Dendrite stopped; Ready=True %s after it was back from a %s outage",
		down.Round(100*time.Millisecond), up.Round(100*time.Millisecond), backendOutage)
}

// waitBackend samples the ChatBackend every 100 ms until its Ready condition has
// status want, and returns how long that took.
func (r *rig) waitBackend(ctx context.Context, want metav1.ConditionStatus, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	var last *metav1.Condition
	for time.Since(start) < timeout {
		var b collabv1.ChatBackend
		if err := r.k8s.Get(ctx, client.ObjectKey{Name: chatBackend}, &b); err == nil {
			if last = meta.FindStatusCondition(b.Status.Conditions, collabv1.ReadyCondition); last != nil && last.Status == want {
				return time.Since(start), nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last == nil {
		return timeout, fmt.Errorf("the ChatBackend has no Ready condition after %s", timeout)
	}
	return timeout, fmt.Errorf("the ChatBackend is not Ready=%s after %s: %s %s: %s", want, timeout, last.Status, last.Reason, last.Message)
}
