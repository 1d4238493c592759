package controllers

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// spaceChildren is what a member sees of a space: its name and its child links.
func spaceChildren(t *testing.T, space *collabv1.CollaborationSpace, as string) (map[string]bool, error) {
	t.Helper()
	rooms, err := person(t, as).HierarchyRooms(testCtx(t), space.Status.Chat.SpaceID)
	return rooms[space.Status.Chat.SpaceID].Children, err
}

// erin is in marketing only. Engineering shares platform-sync with marketing:
// she finds it under Marketing's space and joins it in one step; when the
// sharing stops, it leaves Marketing's space.
func TestASharedRoomAppearsUnderTheOtherDepartment(t *testing.T) {
	ctx := testCtx(t)
	marketing := chatSpace(newNamespace(t), "marketing", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	marketing.Spec.Members = append(marketing.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: "erin"})
	createSpace(t, marketing)
	marketing = waitReady(t, client.ObjectKeyFromObject(marketing))
	eng := chatSpace(newNamespace(t), "platform", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "general"},
		collabv1.Room{Name: "platform-sync", SharedWith: []collabv1.SpaceReference{{Namespace: marketing.Namespace, Name: marketing.Name}}})
	createSpace(t, eng)
	eng = waitReady(t, client.ObjectKeyFromObject(eng))
	sync, engGeneral := roomID(t, eng, "platform-sync"), roomID(t, eng, "general")

	erin := person(t, "erin")
	if err := erin.Join(ctx, marketing.Status.Chat.SpaceID); err != nil {
		t.Fatalf("erin cannot join her department's space: %v", err)
	}
	eventually(t, "platform-sync under Marketing's space", func() (bool, string) {
		rooms, err := erin.HierarchyRooms(ctx, marketing.Status.Chat.SpaceID)
		_, listed := rooms[sync]
		return err == nil && listed && rooms[marketing.Status.Chat.SpaceID].Children[sync], fmt.Sprintf("%v %v", rooms, err)
	})
	if children, err := spaceChildren(t, marketing, "erin"); err != nil || children[engGeneral] {
		t.Errorf("Marketing's space lists %v (%v); engineering's general is not shared with it", children, err)
	}
	if err := erin.Join(ctx, sync); err != nil {
		t.Errorf("erin cannot join the shared room from her space: %v", err)
	}

	updateSpace(t, eng, func(s *collabv1.CollaborationSpace) { s.Spec.Chat.Rooms[1].SharedWith = nil }, false)
	eventually(t, "platform-sync to leave Marketing's space", func() (bool, string) {
		children, err := spaceChildren(t, marketing, "erin")
		return err == nil && !children[sync], fmt.Sprintf("%v %v", children, err)
	})
	// Following another department's sharing is asked for, not a change by hand.
	eventually(t, "Marketing's pass to be recorded", func() (bool, string) {
		var events corev1.EventList
		err := k8sClient.List(ctx, &events, client.InNamespace(marketing.Namespace))
		return err == nil && slices.ContainsFunc(events.Items, func(e corev1.Event) bool {
			return e.Reason == "RoomUpdated" && strings.Contains(e.Message, "children")
		}), fmt.Sprint(err)
	})
	if c := meta.FindStatusCondition(getSpace(t, marketing).Status.Conditions, collabv1.DriftedCondition); c != nil && c.Status == metav1.ConditionTrue {
		t.Errorf("Marketing's space reports drift for following engineering's sharing: %s", c.Message)
	}
}

// frank is in marketing only and joins the room engineering shares with it.
// Engineering is Authoritative: its passes remove undeclared people, but never
// the members of a department the room is shared with.
func TestAnAuthoritativeSpaceKeepsTheSharingDepartmentInTheSharedRoom(t *testing.T) {
	ctx := testCtx(t)
	marketing := chatSpace(newNamespace(t), "campaigns", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	marketing.Spec.Members = append(marketing.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: "frank"})
	createSpace(t, marketing)
	marketing = waitReady(t, client.ObjectKeyFromObject(marketing))
	eng := chatSpace(newNamespace(t), "backend", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "general"},
		collabv1.Room{Name: "launch-review", SharedWith: []collabv1.SpaceReference{{Namespace: marketing.Namespace, Name: marketing.Name}}})
	eng.Spec.MemberPolicy = collabv1.MemberPolicyAuthoritative
	createSpace(t, eng)
	eng = waitReady(t, client.ObjectKeyFromObject(eng))
	review := roomID(t, eng, "launch-review")

	frank := person(t, "frank")
	if err := frank.Join(ctx, marketing.Status.Chat.SpaceID); err != nil {
		t.Fatalf("frank cannot join his department's space: %v", err)
	}
	if err := frank.Join(ctx, review); err != nil {
		t.Fatalf("frank cannot join the room shared with his department: %v", err)
	}
	for _, topic := range []string{"first pass", "second pass"} {
		// a new generation: a full Authoritative pass
		updateSpace(t, eng, func(s *collabv1.CollaborationSpace) { s.Spec.Chat.Rooms[0].Topic = topic }, false)
		eng = waitReady(t, client.ObjectKeyFromObject(eng))
		members, err := operator.Members(ctx, review)
		if err != nil || members[frank.ID] != "join" {
			t.Fatalf("after the %s frank is %q in the shared room (%v), want still joined", topic, members[frank.ID], err)
		}
	}
}
