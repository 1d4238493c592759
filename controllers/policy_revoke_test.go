package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	forumdeploy "github.com/opencommons/collab-operator/internal/forum/nodebb/deploy"
)

// TestRemovalsTakeEffectWhileASpaceBreaksAPolicy (issue 19, finding 10): a space
// that breaks a tightened policy changes nothing, except that a person removed
// from it loses access all the same. A person added meanwhile gets nothing until
// the space follows the policy again.
func TestRemovalsTakeEffectWhileASpaceBreaksAPolicy(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	labelNamespace(t, ns, "policy-test", ns)
	space := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "revoke", Namespace: ns},
		Spec: collabv1.CollaborationSpaceSpec{
			Department:     "Revoke",
			DeletionPolicy: collabv1.DeletionPolicyDelete,
			Members: []collabv1.Member{
				{Kind: collabv1.SubjectUser, Name: "dave", Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectUser, Name: "carol", Role: collabv1.RoleModerator},
				{Kind: collabv1.SubjectUser, Name: "alice", Role: collabv1.RoleMember},
				{Kind: collabv1.SubjectUser, Name: "bob", Role: collabv1.RoleMember},
			},
		},
	}
	createSpace(t, space)
	key := client.ObjectKeyFromObject(space)
	waitReady(t, key)

	createPolicy(t, "no-delete-"+ns, ns, collabv1.CollaborationPolicySpec{}) // Delete is not allowed
	stalled := waitPolicyCondition(t, key, metav1.ConditionFalse, collabv1.ReasonPolicyViolation)

	// carol (the only Moderator) and alice leave; erin joins. The space still breaks the policy.
	updateSpace(t, stalled, func(s *collabv1.CollaborationSpace) {
		s.Spec.Members = []collabv1.Member{
			{Kind: collabv1.SubjectUser, Name: "dave", Role: collabv1.RoleOwner},
			{Kind: collabv1.SubjectUser, Name: "bob", Role: collabv1.RoleMember},
			{Kind: collabv1.SubjectUser, Name: "erin", Role: collabv1.RoleMember},
		}
	}, false)
	waitPolicyCondition(t, key, metav1.ConditionFalse, collabv1.ReasonPolicyViolation)
	eventually(t, "alice and carol lose access, erin gets none", func() (bool, string) {
		members, err := bindingSubjects(ctx, ns, "collab-revoke-members")
		if err != nil {
			return false, err.Error()
		}
		moderators, err := bindingSubjects(ctx, ns, "collab-revoke-moderators")
		if err != nil {
			return false, err.Error()
		}
		ok := slices.Equal(members, []string{"bob"}) && moderators == nil
		return ok, fmt.Sprintf("members %v, moderators %v", members, moderators)
	})
	time.Sleep(2 * testPollInterval) // a later pass would have added erin by now
	if members, err := bindingSubjects(ctx, ns, "collab-revoke-members"); err != nil || slices.Contains(members, "erin") {
		t.Errorf("members binding holds %v (%v): erin was granted access while the space breaks its policy", members, err)
	}
	if owners, err := bindingSubjects(ctx, ns, "collab-revoke-owners"); err != nil || !slices.Equal(owners, []string{"dave"}) {
		t.Errorf("owners binding holds %v (%v), want dave untouched", owners, err)
	}
}

// bindingSubjects names the subjects of a RoleBinding, nil when it is gone.
func bindingSubjects(ctx context.Context, ns, name string) ([]string, error) {
	var b rbacv1.RoleBinding
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &b); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	var names []string
	for _, s := range b.Subjects {
		names = append(names, s.Name)
	}
	return names, nil
}

// TestAForbiddenForumImageThatKeepsRunningIsNamed (issue 19, finding 10): a
// policy tightened after a forum was deployed forbids its image. The operator
// changes nothing of a space that breaks a policy, so the Deployment keeps the
// image; PolicyCompliant and a Warning event must say that it still runs,
// rather than leave the platform team to believe the policy took effect.
func TestAForbiddenForumImageThatKeepsRunningIsNamed(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	labelNamespace(t, ns, "policy-test", ns)
	const image = "registry.example.org/nodebb:custom"
	space := forumSpace(ns, "custom")
	space.Spec.Forum.Deploy.Image = image
	createSpace(t, space)
	key := client.ObjectKey{Namespace: ns, Name: forumdeploy.Name("custom")}
	eventually(t, "the forum Deployment to run the image", func() (bool, string) {
		dep := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, key, dep); err != nil {
			return false, err.Error()
		}
		return dep.Spec.Template.Spec.Containers[0].Image == image, dep.Spec.Template.Spec.Containers[0].Image
	})

	policyName := "images-" + ns
	createPolicy(t, policyName, ns, collabv1.CollaborationPolicySpec{
		ForumImages: []string{"registry.example.org/approved/*"}, AllowDeletionPolicyDelete: true,
	})
	stalled := waitPolicyCondition(t, client.ObjectKeyFromObject(space), metav1.ConditionFalse, collabv1.ReasonPolicyViolation)
	want := "Deployment " + key.Name + " still runs " + image
	c := meta.FindStatusCondition(stalled.Status.Conditions, collabv1.PolicyCompliantCondition)
	if !strings.Contains(c.Message, want) {
		t.Errorf("PolicyCompliant says %q, want it to say %q", c.Message, want)
	}
	eventually(t, "a Warning event naming the running image", func() (bool, string) {
		var events eventsv1.EventList
		if err := k8sClient.List(ctx, &events, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		for _, e := range events.Items {
			if e.Reason == collabv1.ReasonForbiddenImageRunning && e.Type == corev1.EventTypeWarning && strings.Contains(e.Note, want) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(events.Items))
	})
}
