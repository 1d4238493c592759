package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/spacepass"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// The suite's API server has no admission policies, like a cluster where they were
// never installed: everything below is the reconciler's own enforcement.

// labelNamespace sets a label on a test's namespace.
func labelNamespace(t *testing.T, name, key, value string) {
	t.Helper()
	ns := &corev1.Namespace{}
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, ns); err != nil {
		t.Fatal(err)
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[key] = value
	if err := k8sClient.Update(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
}

// createPolicy creates a CollaborationPolicy that selects the namespaces labelled
// policy-test=<selector>, and deletes it when the test ends.
func createPolicy(t *testing.T, name, selector string, spec collabv1.CollaborationPolicySpec) *collabv1.CollaborationPolicy {
	t.Helper()
	spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"policy-test": selector}}
	p := &collabv1.CollaborationPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	if err := k8sClient.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), p) })
	return p
}

// waitPolicyCondition waits until the space's PolicyCompliant has the status and
// reason at its current generation, and returns the space.
func waitPolicyCondition(t *testing.T, key client.ObjectKey, status metav1.ConditionStatus, reason string) *collabv1.CollaborationSpace {
	t.Helper()
	space := &collabv1.CollaborationSpace{}
	eventually(t, fmt.Sprintf("%s PolicyCompliant=%s %s", key, status, reason), func() (bool, string) {
		if err := k8sClient.Get(context.Background(), key, space); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(space.Status.Conditions, collabv1.PolicyCompliantCondition)
		if c == nil {
			return false, fmt.Sprintf("no PolicyCompliant: %v", space.Status.Conditions)
		}
		ok := c.Status == status && c.Reason == reason && c.ObservedGeneration == space.Generation &&
			space.Status.ObservedGeneration == space.Generation
		return ok, fmt.Sprintf("%s %s at generation %d of %d: %s", c.Status, c.Reason, c.ObservedGeneration, space.Generation, c.Message)
	})
	return space
}

// TestAPolicyTightenedAfterAdmissionStallsTheSpace: a policy made stricter than a
// Ready space leaves it Stalled with reason PolicyViolation, naming the field and
// the rule; later changes to the space are not carried out until the policy
// allows them again.
func TestAPolicyTightenedAfterAdmissionStallsTheSpace(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	labelNamespace(t, ns, "policy-test", ns)
	space := chatSpace(ns, "tightened", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "general", Topic: "Before the policy"}, collabv1.Room{Name: "random"})
	createSpace(t, space)
	key := client.ObjectKeyFromObject(space)
	ready := waitReady(t, key)
	if c := meta.FindStatusCondition(ready.Status.Conditions, collabv1.PolicyCompliantCondition); c == nil ||
		c.Status != metav1.ConditionTrue || c.Reason != collabv1.ReasonNoPolicy {
		t.Errorf("PolicyCompliant before any policy = %+v, want True NoPolicy", c)
	}
	general := roomID(t, ready, "general")

	policyName := "tight-" + ns
	createPolicy(t, policyName, ns, collabv1.CollaborationPolicySpec{
		Limits: &collabv1.PolicyLimits{Rooms: ptr.To[int32](1)},
	})
	stalled := waitPolicyCondition(t, key, metav1.ConditionFalse, collabv1.ReasonPolicyViolation)
	wantMsg := "spec.chat.rooms: 2 rooms, more than the 1 CollaborationPolicy " + policyName + " allows (spec.limits.rooms)"
	c := meta.FindStatusCondition(stalled.Status.Conditions, collabv1.PolicyCompliantCondition)
	if !strings.Contains(c.Message, wantMsg) {
		t.Errorf("PolicyCompliant says %q, want it to contain %q", c.Message, wantMsg)
	}
	for _, cond := range []string{collabv1.StalledCondition, collabv1.ReadyCondition} {
		got := meta.FindStatusCondition(stalled.Status.Conditions, cond)
		want := metav1.ConditionTrue
		if cond == collabv1.ReadyCondition {
			want = metav1.ConditionFalse
		}
		if got == nil || got.Status != want || got.Reason != collabv1.ReasonPolicyViolation {
			t.Errorf("%s = %+v, want %s with reason PolicyViolation", cond, got, want)
		}
	}

	// The owner changes the space meanwhile (nothing at admission stops it here):
	// nothing of it reaches Matrix while the policy forbids the space.
	updateSpace(t, stalled, func(s *collabv1.CollaborationSpace) {
		s.Spec.Chat.Rooms[0].Topic = "Changed under the policy"
		s.Spec.Chat.Rooms = append(s.Spec.Chat.Rooms, collabv1.Room{Name: "third"})
	}, false)
	stalled = waitPolicyCondition(t, key, metav1.ConditionFalse, collabv1.ReasonPolicyViolation)
	if c := meta.FindStatusCondition(stalled.Status.Conditions, collabv1.PolicyCompliantCondition); !strings.Contains(c.Message, "3 rooms") {
		t.Errorf("PolicyCompliant after the change says %q, want it to count 3 rooms", c.Message)
	}
	time.Sleep(2 * testPollInterval) // a poll would have acted by now
	third := "#" + ns + ".tightened.third:" + homeserver.ServerName
	if id, err := operator.ResolveAlias(ctx, third); err == nil {
		t.Errorf("room %s (%s) was created while the policy forbids the space", third, id)
	}
	var topic struct {
		Topic string `json:"topic"`
	}
	if err := operator.State(ctx, general, "m.room.topic", &topic); err != nil || topic.Topic != "Before the policy" {
		t.Errorf("general's topic is %q (%v), want it untouched while the policy forbids the space", topic.Topic, err)
	}

	// The platform team relaxes the policy: the space converges.
	p := &collabv1.CollaborationPolicy{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: policyName}, p); err != nil {
		t.Fatal(err)
	}
	p.Spec.Limits.Rooms = ptr.To[int32](3)
	if err := k8sClient.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	ready = waitReady(t, key)
	if c := meta.FindStatusCondition(ready.Status.Conditions, collabv1.PolicyCompliantCondition); c == nil ||
		c.Reason != collabv1.ReasonCompliant || !strings.Contains(c.Message, policyName) {
		t.Errorf("PolicyCompliant once allowed = %+v, want True Compliant naming %s", c, policyName)
	}
	if id, err := operator.ResolveAlias(ctx, third); err != nil || id != roomID(t, ready, "third") {
		t.Errorf("room %s resolves to %q (%v) once allowed, want the room in status", third, id, err)
	}
}

// TestAPolicyForbiddingDeleteArchivesInstead: a space marked Delete whose namespace
// a policy now bounds is archived when it is deleted, never purged.
func TestAPolicyForbiddingDeleteArchivesInstead(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	space := chatSpace(ns, "purgeable", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	space.Spec.DeletionPolicy = collabv1.DeletionPolicyDelete
	createSpace(t, space)
	ready := waitReady(t, client.ObjectKeyFromObject(space))
	general := roomID(t, ready, "general")

	labelNamespace(t, ns, "policy-test", ns)
	createPolicy(t, "no-purge-"+ns, ns, collabv1.CollaborationPolicySpec{})
	waitPolicyCondition(t, client.ObjectKeyFromObject(space), metav1.ConditionFalse, collabv1.ReasonPolicyViolation)
	if err := k8sClient.Delete(ctx, ready); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the space to be gone", func() (bool, string) {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(space), &collabv1.CollaborationSpace{})
		return client.IgnoreNotFound(err) == nil && err != nil, fmt.Sprint(err)
	})
	var name struct {
		Name string `json:"name"`
	}
	if err := operator.State(ctx, general, "m.room.name", &name); err != nil {
		t.Fatalf("room general cannot be read after the space was deleted (%v): was it purged?", err)
	}
	if !strings.HasPrefix(name.Name, "[archived]") {
		t.Errorf("room general is named %q after deletion, want it archived", name.Name)
	}
}

// TestABackendReservedForOtherDepartmentsStallsTheSpace: a ChatBackend whose
// namespaceSelector does not select the space's namespace refuses it, until the
// namespace is labelled to be selected.
func TestABackendReservedForOtherDepartmentsStallsTheSpace(t *testing.T) {
	ctx := testCtx(t)
	const reserved = "reserved-matrix"
	backend := &collabv1.ChatBackend{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: testBackend}, backend); err != nil {
		t.Fatal(err)
	}
	backend = &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: reserved},
		Spec:       *backend.Spec.DeepCopy(),
	}
	backend.Spec.Matrix.DirectorySpace = nil
	backend.Spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "executive"}}
	if err := k8sClient.Create(ctx, backend); err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t)
	space := chatSpace(ns, "boardroom", collabv1.VisibilityPrivate, collabv1.Room{Name: "general"})
	space.Spec.Chat.BackendRef.Name = reserved
	createSpace(t, space)
	t.Cleanup(func() { removeSpaceAndBackend(t, space, backend) })

	key := client.ObjectKeyFromObject(space)
	stalled := waitPolicyCondition(t, key, metav1.ConditionFalse, collabv1.ReasonPolicyViolation)
	want := "spec.chat.backendRef: ChatBackend " + reserved + " is reserved for other namespaces: " +
		"its spec.namespaceSelector does not select namespace " + ns
	if c := meta.FindStatusCondition(stalled.Status.Conditions, collabv1.PolicyCompliantCondition); !strings.Contains(c.Message, want) {
		t.Errorf("PolicyCompliant says %q, want it to contain %q", c.Message, want)
	}
	if stalled.Status.Chat != nil {
		t.Errorf("the space has rooms on a backend reserved for others: %+v", stalled.Status.Chat)
	}

	labelNamespace(t, ns, "tier", "executive")
	ready := waitReady(t, key)
	if ready.Status.Chat == nil || len(ready.Status.Chat.Rooms) != 1 {
		t.Errorf("once selected, the space has rooms %+v, want general", ready.Status.Chat)
	}
}

// TestPlanRefusesWhatAPolicyForbids: collabctl plan judges a space against its
// CollaborationPolicies as the operator does, so a pull request that breaks one is
// told why, with nothing planned.
func TestPlanRefusesWhatAPolicyForbids(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	labelNamespace(t, ns, "policy-test", ns)
	policyName := "plan-" + ns
	createPolicy(t, policyName, ns, collabv1.CollaborationPolicySpec{
		Limits: &collabv1.PolicyLimits{Rooms: ptr.To[int32](1)},
	})
	desired := chatSpace(ns, "planned", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"}, collabv1.Room{Name: "random"})
	live, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := spacepass.PlanSpace(ctx, live, desired, spacepass.PlanOptions{Chat: &matrix.Connector{}, Forums: forum.Engines{&nodebb.Connector{}}})
	want := "spec.chat.rooms: 2 rooms, more than the 1 CollaborationPolicy " + policyName + " allows (spec.limits.rooms)"
	if err == nil || len(plan.Errors) != 1 || !strings.Contains(plan.Errors[0], want) {
		t.Errorf("plan errors %q (%v), want one saying %q", plan.Errors, err, want)
	}
	if len(plan.Changes) != 0 {
		t.Errorf("a plan of a space the policy forbids lists changes: %+v", plan.Changes)
	}
}
