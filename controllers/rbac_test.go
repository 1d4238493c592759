package controllers

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// newSpace returns a space with an owner group, a moderator and a member group.
func newSpace(ns, name string) *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: "Engineering",
			Members: []collabv1.Member{
				{Kind: collabv1.SubjectGroup, Name: "eng-leads", Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectUser, Name: "alice", Role: collabv1.RoleModerator},
				{Kind: collabv1.SubjectGroup, Name: "engineering"},
			},
		},
	}
}

func createSpace(t *testing.T, space *collabv1.CollaborationSpace) {
	t.Helper()
	if err := k8sClient.Create(context.Background(), space); err != nil {
		t.Fatalf("cannot create space: %v", err)
	}
}

// waitReady waits until the space is Ready at its current generation.
func waitReady(t *testing.T, key client.ObjectKey) *collabv1.CollaborationSpace {
	t.Helper()
	space := &collabv1.CollaborationSpace{}
	// A minute: long enough to ride over a wedged Dendrite's restart by the
	// healer (startHealer) and the space's retry after it.
	eventuallyWithin(t, time.Minute, "space "+key.String()+" to be Ready", func() (bool, string) {
		if err := k8sClient.Get(context.Background(), key, space); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(space.Status.Conditions, collabv1.ReadyCondition)
		if c == nil {
			return false, "no Ready condition"
		}
		ok := c.Status == metav1.ConditionTrue && space.Status.ObservedGeneration == space.Generation
		return ok, fmt.Sprintf("Ready=%s %s (observed %d of %d)", c.Status, c.Message,
			space.Status.ObservedGeneration, space.Generation)
	})
	return space
}

// can asks the API server's authorizer whether user (in groups) may do verb on the
// space, as `kubectl auth can-i` would.
func can(t *testing.T, user string, groups []string, verb, ns, space string) bool {
	t.Helper()
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User:   user,
		Groups: groups,
		ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: ns, Verb: verb, Group: collabv1.GroupVersion.Group,
			Resource: "collaborationspaces", Name: space,
		},
	}}
	if err := k8sClient.Create(context.Background(), sar); err != nil {
		t.Fatalf("cannot create SubjectAccessReview: %v", err)
	}
	return sar.Status.Allowed
}

type access struct {
	user   string
	groups []string
	verb   string
	want   bool
}

func checkAccess(t *testing.T, ns, space string, cases []access) {
	t.Helper()
	for _, c := range cases {
		eventually(t, fmt.Sprintf("%s %v may %s: %v", c.user, c.groups, c.verb, c.want), func() (bool, string) {
			got := can(t, c.user, c.groups, c.verb, ns, space)
			return got == c.want, fmt.Sprintf("allowed=%v", got)
		})
	}
}

func TestOwnersMayChangeTheirSpaceAndMembersMayOnlyLook(t *testing.T) {
	ns := newNamespace(t)
	space := newSpace(ns, "engineering")
	createSpace(t, space)
	waitReady(t, client.ObjectKeyFromObject(space))

	checkAccess(t, ns, "engineering", []access{
		{user: "lead", groups: []string{"eng-leads"}, verb: "update", want: true},
		{user: "lead", groups: []string{"eng-leads"}, verb: "patch", want: true},
		{user: "alice", verb: "update", want: false},
		{user: "alice", verb: "get", want: true},
		{user: "carol", groups: []string{"engineering"}, verb: "get", want: true},
		{user: "carol", groups: []string{"engineering"}, verb: "update", want: false},
		{user: "mallory", groups: []string{"marketing"}, verb: "get", want: false},
	})
	// The owner's rights stop at their own space.
	if can(t, "lead", []string{"eng-leads"}, "update", ns, "another-space") {
		t.Errorf("an owner of engineering may update another space in the namespace")
	}
	if can(t, "lead", []string{"eng-leads"}, "delete", ns, "engineering") {
		t.Errorf("an owner may delete the space; only the platform team should")
	}

	// A pull request makes alice an owner and drops the engineering group.
	patch := client.MergeFrom(space.DeepCopy())
	space.Spec.Members = []collabv1.Member{
		{Kind: collabv1.SubjectGroup, Name: "eng-leads", Role: collabv1.RoleOwner},
		{Kind: collabv1.SubjectUser, Name: "alice", Role: collabv1.RoleOwner},
	}
	if err := k8sClient.Patch(context.Background(), space, patch); err != nil {
		t.Fatal(err)
	}
	waitReady(t, client.ObjectKeyFromObject(space))
	checkAccess(t, ns, "engineering", []access{
		{user: "alice", verb: "update", want: true},
		{user: "carol", groups: []string{"engineering"}, verb: "get", want: false},
		{user: "lead", groups: []string{"eng-leads"}, verb: "update", want: true},
	})
}

func TestBindingsFollowMembersAndArePruned(t *testing.T) {
	ns := newNamespace(t)
	space := newSpace(ns, "research")
	space.Spec.Members = append(space.Spec.Members,
		collabv1.Member{Kind: collabv1.SubjectServiceAccount, Name: "ci-bot", Role: collabv1.RoleOwner})
	createSpace(t, space)
	got := waitReady(t, client.ObjectKeyFromObject(space))

	wantBindings := []string{"collab-research-owners", "collab-research-moderators", "collab-research-members"}
	if !slices.Equal(got.Status.Permissions.RoleBindings, wantBindings) {
		t.Errorf("status.permissions.roleBindings = %v, want %v", got.Status.Permissions.RoleBindings, wantBindings)
	}
	owners := &rbacv1.RoleBinding{}
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "collab-research-owners"}, owners); err != nil {
		t.Fatal(err)
	}
	wantOwners := []rbacv1.Subject{
		{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "eng-leads"},
		{Kind: "ServiceAccount", Name: "ci-bot", Namespace: ns},
	}
	if !slices.Equal(owners.Subjects, wantOwners) {
		t.Errorf("owners binding subjects = %v, want %v", owners.Subjects, wantOwners)
	}
	if !metav1.IsControlledBy(owners, got) || owners.Labels[collabv1.SpaceLabel] != "research" {
		t.Errorf("owners binding is not owned and labelled by its space: %v %v", owners.OwnerReferences, owners.Labels)
	}

	// Removing the only moderator removes the moderators binding.
	patch := client.MergeFrom(got.DeepCopy())
	got.Spec.Members = slices.DeleteFunc(got.Spec.Members, func(m collabv1.Member) bool { return m.Name == "alice" })
	if err := k8sClient.Patch(context.Background(), got, patch); err != nil {
		t.Fatal(err)
	}
	got = waitReady(t, client.ObjectKeyFromObject(space))
	eventually(t, "moderators binding to be pruned", func() (bool, string) {
		err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "collab-research-moderators"}, &rbacv1.RoleBinding{})
		return err != nil, fmt.Sprint(err)
	})
	if slices.Contains(got.Status.Permissions.RoleBindings, "collab-research-moderators") {
		t.Errorf("status still lists the pruned binding: %v", got.Status.Permissions.RoleBindings)
	}
	checkAccess(t, ns, "research", []access{{user: "alice", verb: "get", want: false}})
}

func TestABindingChangedByHandIsPutBack(t *testing.T) {
	ns := newNamespace(t)
	space := newSpace(ns, "support")
	createSpace(t, space)
	waitReady(t, client.ObjectKeyFromObject(space))

	key := client.ObjectKey{Namespace: ns, Name: "collab-support-owners"}
	binding := &rbacv1.RoleBinding{}
	if err := k8sClient.Get(context.Background(), key, binding); err != nil {
		t.Fatal(err)
	}
	binding.Subjects = append(binding.Subjects, rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: "intruder"})
	if err := k8sClient.Update(context.Background(), binding); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the hand-made subject to be removed", func() (bool, string) {
		if err := k8sClient.Get(context.Background(), key, binding); err != nil {
			return false, err.Error()
		}
		return len(binding.Subjects) == 1 && binding.Subjects[0].Name == "eng-leads", fmt.Sprint(binding.Subjects)
	})
	checkAccess(t, ns, "support", []access{{user: "intruder", verb: "update", want: false}})
}

// TestABindingMadeAgainForAnotherRoleIsPutBack: someone makes the moderators'
// binding before the operator does, under its name, with the operator's labels
// and the space as its controller, but bound to the owners' Role. The API
// server lets no binding change its role, so the operator makes it again, and
// the moderator may only look.
func TestABindingMadeAgainForAnotherRoleIsPutBack(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	space := newSpace(ns, "triage")
	moderator := space.Spec.Members[1]
	space.Spec.Members = slices.Delete(space.Spec.Members, 1, 2)
	createSpace(t, space)
	waitReady(t, client.ObjectKeyFromObject(space))

	owners := &rbacv1.RoleBinding{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "collab-triage-owners"}, owners); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKey{Namespace: ns, Name: "collab-triage-moderators"}
	forged := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: ns,
		Labels: owners.Labels, OwnerReferences: owners.OwnerReferences},
		RoleRef:  owners.RoleRef,
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: moderator.Name}}}
	if err := k8sClient.Create(ctx, forged); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(space), space); err != nil {
		t.Fatal(err)
	}
	space.Spec.Members = append(space.Spec.Members, moderator)
	if err := k8sClient.Update(ctx, space); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{}
	eventually(t, "the moderators' binding to be bound to the viewers' Role", func() (bool, string) {
		if err := k8sClient.Get(ctx, key, binding); err != nil {
			return false, err.Error()
		}
		return binding.RoleRef.Name == "collab-triage-viewer" && binding.UID != forged.UID, binding.RoleRef.Name
	})
	checkAccess(t, ns, "triage", []access{{user: moderator.Name, verb: "update", want: false},
		{user: moderator.Name, verb: "get", want: true}})
}
