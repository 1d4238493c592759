package isolation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

const (
	victimNS   = "tenant-victim"
	attackerNS = "tenant-attacker"
)

// TestChatIsolation: the victim's Finance department and an attacker who names
// their own space the same, then tries every way to reach the victim's rooms.
func TestChatIsolation(t *testing.T) {
	ctx := testCtx(t)
	victim := tenantSpace(victimNS, "finance", "Finance", "vera", "walt",
		collabv1.Room{Name: "general"}, collabv1.Room{Name: "general-x"},
		collabv1.Room{Name: "announcements", Posting: collabv1.PostingOwners})
	create(t, victim)
	victim = waitReady(t, victim)

	attacker := tenantSpace(attackerNS, "finance", "Finance", "mallory", "max", collabv1.Room{Name: "general"})
	attacker.Spec.MemberPolicy = collabv1.MemberPolicyAuthoritative
	create(t, attacker)
	attacker = waitReady(t, attacker)
	before := viewOf(t, ctx, victim)

	// unchanged asserts that nothing of the victim's changed and that neither
	// attacker is in any of the victim's rooms.
	unchanged := func(t *testing.T) {
		t.Helper()
		after := viewOf(t, ctx, victim)
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("the victim's space changed (-before +after):\n%s", diff)
		}
		for name, room := range after.Rooms {
			for _, who := range []string{"mallory", "max"} {
				if m := room.Members[person(who).ID]; m == "join" || m == "invite" {
					t.Errorf("%s is %sed in the victim's room %s", who, m, name)
				}
			}
		}
	}

	t.Run("same space name in another namespace gets rooms of its own", func(t *testing.T) {
		ids := map[string]bool{victim.Status.Chat.SpaceID: true}
		for _, r := range victim.Status.Chat.Rooms {
			ids[r.RoomID] = true
		}
		if ids[attacker.Status.Chat.SpaceID] || ids[attacker.Status.Chat.Rooms[0].RoomID] {
			t.Errorf("the attacker's space %+v shares a room with the victim's %+v", attacker.Status.Chat, victim.Status.Chat)
		}
		unchanged(t)
	})

	t.Run("names the old aliases mixed up stay apart", func(t *testing.T) {
		// Space finance-general with room x was #finance-general-x, as was the
		// victim's room general-x of space finance.
		mixed := tenantSpace(attackerNS, "finance-general", "Finance", "mallory", "max", collabv1.Room{Name: "x"})
		create(t, mixed)
		mixed = waitReady(t, mixed)
		if id := mixed.Status.Chat.Rooms[0].RoomID; id == roomIDOf(victim, "general-x") {
			t.Errorf("finance-general/x was given the victim's room finance/general-x (%s)", id)
		}
		unchanged(t)
	})

	t.Run("an owner cannot write the state that defines a room", func(t *testing.T) {
		mallory := person("mallory")
		room := attacker.Status.Chat.Rooms[0].RoomID
		// She joins her own rooms first, so a refusal is about her power level,
		// not about being outside the room.
		for _, id := range []string{attacker.Status.Chat.SpaceID, room} {
			if err := mallory.Join(ctx, id); err != nil {
				t.Fatalf("mallory cannot join her own room %s: %v", id, err)
			}
		}
		if err := mallory.SetTopic(ctx, room, "topics are hers to set"); err != nil {
			t.Errorf("the Owner cannot set a topic, which moderators and owners may: %v", err)
		}
		attempts := map[string]struct {
			eventType, stateKey string
			content             any
		}{
			"forge the owner marker":        {chat.OwnerEventType, "", map[string]string{"owner": victimNS + "/finance"}},
			"raise herself to the operator": {"m.room.power_levels", "", map[string]any{"users": map[string]int{mallory.ID: 100}}},
			"open the room to everyone":     {"m.room.join_rules", "", map[string]string{"join_rule": "public"}},
			"link the victim's room":        {"m.space.child", victim.Status.Chat.Rooms[0].RoomID, map[string]any{"via": []string{homeserver.ServerName}}},
			"claim a parent":                {"m.space.parent", victim.Status.Chat.SpaceID, map[string]any{"via": []string{homeserver.ServerName}}},
			"re-point the canonical alias":  {"m.room.canonical_alias", "", map[string]string{}},
			"make history world readable":   {"m.room.history_visibility", "", map[string]string{"history_visibility": "world_readable"}},
		}
		for what, a := range attempts {
			target := room
			if a.eventType == "m.space.child" {
				target = attacker.Status.Chat.SpaceID
			}
			if err := mallory.SetState(ctx, target, a.eventType, a.stateKey, a.content); !forbidden(err) {
				t.Errorf("%s: the Owner's %s was answered %v, want M_FORBIDDEN", what, a.eventType, err)
			}
		}
		unchanged(t)
	})

	t.Run("a room squatting the victim's next alias with a forged marker is not adopted", func(t *testing.T) {
		mallory := person("mallory")
		squat := squatRoom(t, ctx, mallory, victimNS+".finance.budget", victimNS+"/finance")

		cur := &collabv1.CollaborationSpace{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(victim), cur); err != nil {
			t.Fatal(err)
		}
		cur.Spec.Chat.Rooms = append(cur.Spec.Chat.Rooms, collabv1.Room{Name: "budget"})
		if err := k8s.Update(ctx, cur); err != nil {
			t.Fatal(err)
		}
		stalled := waitCondition(t, client.ObjectKeyFromObject(victim), collabv1.StalledCondition, metav1.ConditionTrue, "AliasConflict")
		msg := conditionMessage(stalled, collabv1.StalledCondition)
		if !strings.Contains(msg, "#"+victimNS+".finance.budget:") || strings.Contains(msg, attackerNS) {
			t.Errorf("Stalled says %q: want the alias taken, and never the other tenant's namespace", msg)
		}
		assertNotAdopted(t, ctx, squat, mallory)

		// The server's admin frees the alias (here the squatter): the space recovers
		// with a room of its own, and its other rooms were never touched.
		if err := mallory.DeleteAlias(ctx, "#"+victimNS+".finance.budget:"+homeserver.ServerName); err != nil {
			t.Fatal(err)
		}
		requestReconcile(t, ctx, victim) // a Stalled space waits to be told its environment changed
		recovered := waitReady(t, victim)
		if id := roomIDOf(recovered, "budget"); id == squat || id == "" {
			t.Errorf("budget is room %q after recovery, want a new room, not the squat %s", id, squat)
		}
		for _, name := range []string{"general", "general-x", "announcements"} {
			if roomIDOf(recovered, name) != before.Rooms[name].ID {
				t.Errorf("room %s changed id during the conflict", name)
			}
		}
		assertNotAdopted(t, ctx, squat, mallory)
		before = viewOf(t, ctx, recovered) // budget is the victim's own change
	})

	t.Run("squatting a department's space alias before it onboards", func(t *testing.T) {
		mallory := person("mallory")
		squat := squatRoom(t, ctx, mallory, "tenant-late.hr", "tenant-late/hr")
		late := tenantSpace("tenant-late", "hr", "HR", "vera", "walt", collabv1.Room{Name: "general"})
		create(t, late)
		stalled := waitCondition(t, client.ObjectKeyFromObject(late), collabv1.StalledCondition, metav1.ConditionTrue, "AliasConflict")
		if msg := conditionMessage(stalled, collabv1.StalledCondition); strings.Contains(msg, attackerNS) {
			t.Errorf("Stalled names the attacker's namespace: %q", msg)
		}
		assertNotAdopted(t, ctx, squat, mallory)
		deleteAndWait(t, late)
		assertNotAdopted(t, ctx, squat, mallory)
	})

	t.Run("sharing one's own room with the victim opens nothing of the victim's", func(t *testing.T) {
		cur := &collabv1.CollaborationSpace{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(attacker), cur); err != nil {
			t.Fatal(err)
		}
		cur.Spec.Chat.Rooms[0].SharedWith = []collabv1.SpaceReference{{Namespace: victimNS, Name: "finance"}}
		if err := k8s.Update(ctx, cur); err != nil {
			t.Fatal(err)
		}
		waitReady(t, cur)
		general := roomIDOf(victim, "general")
		mallory := person("mallory")
		_ = mallory.Join(ctx, general)
		if inRoom(t, ctx, operator, general, mallory.ID) {
			t.Errorf("mallory joined the victim's general by sharing her own room with them")
		}
		unchanged(t)
	})

	for _, policy := range []collabv1.DeletionPolicy{collabv1.DeletionPolicyDelete, collabv1.DeletionPolicyArchive, collabv1.DeletionPolicyRetain} {
		t.Run("deleting a same-named attacker space under "+string(policy), func(t *testing.T) {
			ns := attackerNS + "-" + strings.ToLower(string(policy))
			doomed := tenantSpace(ns, "finance", "Finance", "mallory", "max", collabv1.Room{Name: "general"}, collabv1.Room{Name: "general-x"})
			doomed.Spec.DeletionPolicy = policy
			doomed.Spec.MemberPolicy = collabv1.MemberPolicyAuthoritative
			create(t, doomed)
			waitReady(t, doomed)
			deleteAndWait(t, doomed)
			unchanged(t)
		})
	}

	// The victim is deleted last in no case: its space must still be Ready at the
	// end, with every room the same as at the start.
	t.Run("the victim is still Ready", func(t *testing.T) {
		waitReady(t, victim)
	})
}

// squatRoom creates, as user, a room holding alias #<alias>:<server> with an owner
// marker claiming owner, the way a hostile user would prepare a takeover.
func squatRoom(t *testing.T, ctx context.Context, user *matrixuser.User, alias, owner string) string {
	t.Helper()
	id, err := user.CreateRoom(ctx, map[string]any{
		"preset": "private_chat", "room_alias_name": alias, "name": "totally legit", "room_version": "10",
		"initial_state": []map[string]any{{"type": chat.OwnerEventType, "state_key": "", "content": map[string]string{"owner": owner}}},
	})
	if err != nil {
		t.Fatalf("%s cannot create the squatting room: %v", user.ID, err)
	}
	return id
}

// assertNotAdopted checks the operator neither joined a squatting room nor
// invited anyone into it, and that its creator keeps full power there.
func assertNotAdopted(t *testing.T, ctx context.Context, roomID string, squatter *matrixuser.User) {
	t.Helper()
	members, err := squatter.Members(ctx, roomID)
	if err != nil {
		t.Fatal(err)
	}
	for user, m := range members {
		if user != squatter.ID && (m == "join" || m == "invite") {
			t.Errorf("%s is %sed in the squatting room %s: it was adopted", user, m, roomID)
		}
	}
	var levels struct {
		Users map[string]int `json:"users"`
	}
	if err := squatter.State(ctx, roomID, "m.room.power_levels", &levels); err != nil {
		t.Fatal(err)
	}
	if levels.Users[squatter.ID] != 100 || len(levels.Users) != 1 {
		t.Errorf("power levels of the squatting room changed to %v", levels.Users)
	}
}

// requestReconcile asks the operator to look at a space again, as a user does
// once a Stalled space's environment is fixed.
func requestReconcile(t *testing.T, ctx context.Context, space *collabv1.CollaborationSpace) {
	t.Helper()
	cur := &collabv1.CollaborationSpace{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(space), cur); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(cur.DeepCopy())
	cur.SetAnnotations(map[string]string{"collab.opencommons.io/reconcile-requested-at": time.Now().Format(time.RFC3339Nano)})
	if err := k8s.Patch(ctx, cur, patch); err != nil {
		t.Fatal(err)
	}
}

func roomIDOf(space *collabv1.CollaborationSpace, name string) string {
	if space.Status.Chat == nil {
		return ""
	}
	for _, r := range space.Status.Chat.Rooms {
		if r.Name == name {
			return r.RoomID
		}
	}
	return ""
}

func conditionMessage(space *collabv1.CollaborationSpace, condType string) string {
	for _, c := range space.Status.Conditions {
		if c.Type == condType {
			return c.Message
		}
	}
	return ""
}

func forbidden(err error) bool {
	var e *matrixuser.Error
	return errors.As(err, &e) && e.Code == "M_FORBIDDEN"
}
