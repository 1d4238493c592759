package isolation

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func person(name string) *matrixuser.User { return people[name] }

// tenantSpace is a department's space: owner and member are people on the chat
// server, rooms are on the suite's ChatBackend.
func tenantSpace(ns, name, department, owner, member string, rooms ...collabv1.Room) *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: department,
			Visibility: collabv1.VisibilityDepartment,
			Members: []collabv1.Member{
				{Kind: collabv1.SubjectUser, Name: owner, Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectUser, Name: member, Role: collabv1.RoleMember},
			},
			Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: chatBackend}, Rooms: rooms},
		},
	}
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := createNamespace(context.Background(), obj.GetNamespace()); obj.GetNamespace() != "" && err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %s: %v", obj.GetName(), err)
	}
}

// waitCondition waits until the space's condition has the status and reason (any
// reason when empty) at its current generation, and returns the space.
func waitCondition(t *testing.T, key client.ObjectKey, condType string, status metav1.ConditionStatus, reason string) *collabv1.CollaborationSpace {
	t.Helper()
	space := &collabv1.CollaborationSpace{}
	wait.Eventually(t, 90*time.Second, fmt.Sprintf("%s %s=%s %s", key, condType, status, reason), func() (bool, string) {
		if err := k8s.Get(context.Background(), key, space); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(space.Status.Conditions, condType)
		if c == nil {
			return false, fmt.Sprintf("no %s condition: %+v", condType, space.Status.Conditions)
		}
		ok := c.Status == status && (reason == "" || c.Reason == reason) && c.ObservedGeneration == space.Generation
		return ok, fmt.Sprintf("%s=%s %s: %s", condType, c.Status, c.Reason, c.Message)
	})
	return space
}

func waitReady(t *testing.T, space *collabv1.CollaborationSpace) *collabv1.CollaborationSpace {
	t.Helper()
	return waitCondition(t, client.ObjectKeyFromObject(space), collabv1.ReadyCondition, metav1.ConditionTrue, "")
}

// deleteAndWait deletes a space and waits until its finalizer has let it go.
func deleteAndWait(t *testing.T, space *collabv1.CollaborationSpace) {
	t.Helper()
	if err := k8s.Delete(context.Background(), space); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 90*time.Second, "deletion of "+space.Name, func() (bool, string) {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(space), &collabv1.CollaborationSpace{})
		return client.IgnoreNotFound(err) == nil && err != nil, fmt.Sprint(err)
	})
}

// roomView is what a user would check of one room.
type roomView struct {
	ID         string
	Name       string
	JoinRule   string
	Allow      []string
	Members    map[string]string
	Levels     map[string]int
	EventLevel map[string]int
}

// view is what the victim would check of their space: its rooms as the chat
// server holds them, and its conditions.
type view struct {
	Rooms      map[string]roomView
	Conditions map[string]string
}

// viewOf reads a space's rooms (through the operator's account, which is in all
// of them) and its conditions.
func viewOf(t *testing.T, ctx context.Context, space *collabv1.CollaborationSpace) view {
	t.Helper()
	cur := &collabv1.CollaborationSpace{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(space), cur); err != nil {
		t.Fatal(err)
	}
	v := view{Rooms: map[string]roomView{}, Conditions: map[string]string{}}
	for _, c := range cur.Status.Conditions {
		v.Conditions[c.Type] = string(c.Status) + " " + c.Reason
	}
	if cur.Status.Chat == nil {
		return v
	}
	v.Rooms["(space)"] = readRoom(t, ctx, cur.Status.Chat.SpaceID)
	for _, r := range cur.Status.Chat.Rooms {
		v.Rooms[r.Name] = readRoom(t, ctx, r.RoomID)
	}
	return v
}

func readRoom(t *testing.T, ctx context.Context, id string) roomView {
	t.Helper()
	v := roomView{ID: id}
	var name struct {
		Name string `json:"name"`
	}
	_ = operator.State(ctx, id, "m.room.name", &name)
	v.Name = name.Name
	var rules struct {
		JoinRule string `json:"join_rule"`
		Allow    []struct {
			RoomID string `json:"room_id"`
		} `json:"allow"`
	}
	if err := operator.State(ctx, id, "m.room.join_rules", &rules); err != nil {
		t.Fatalf("read join rules of %s: %v", id, err)
	}
	v.JoinRule = rules.JoinRule
	for _, a := range rules.Allow {
		v.Allow = append(v.Allow, a.RoomID)
	}
	sort.Strings(v.Allow)
	var levels struct {
		Users  map[string]int `json:"users"`
		Events map[string]int `json:"events"`
	}
	if err := operator.State(ctx, id, "m.room.power_levels", &levels); err != nil {
		t.Fatalf("read power levels of %s: %v", id, err)
	}
	v.Levels, v.EventLevel = levels.Users, levels.Events
	members, err := operator.Members(ctx, id)
	if err != nil {
		t.Fatalf("read members of %s: %v", id, err)
	}
	v.Members = members
	return v
}

// inRoom reports whether a user is joined to or invited into a room.
func inRoom(t *testing.T, ctx context.Context, reader *matrixuser.User, roomID, userID string) bool {
	t.Helper()
	var member struct {
		Membership string `json:"membership"`
	}
	if err := reader.State(ctx, roomID, "m.room.member/"+userID, &member); err != nil {
		return false
	}
	return member.Membership == string(chat.MembershipJoin) || member.Membership == string(chat.MembershipInvite)
}
