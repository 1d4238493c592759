package controllers

import (
	"fmt"
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
)

// TestOrphansOfInterruptedCreatesAreAdoptedOrRemoved recreates what a manager
// killed inside createRoom leaves: a room with the operator's owner marker and
// canonical alias but no alias pointing at it. While its alias is free it is
// adopted (the space then records that very room); when the next pass already
// made the room again, it is an unused duplicate and goes.
func TestOrphansOfInterruptedCreatesAreAdoptedOrRemoved(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	space := chatSpace(ns, "orphans", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	// orphan makes the room createRoom makes before a crash stops it from storing
	// the alias: the operator's owner marker and the canonical alias of the room it
	// was meant to be, and no alias pointing at it.
	orphan := func(room string) string {
		t.Helper()
		id, err := operator.CreateRoom(ctx, map[string]any{
			"preset": "private_chat", "name": room, "room_version": "10",
			"initial_state": []map[string]any{
				{"type": chat.OwnerEventType, "state_key": "", "content": map[string]string{"owner": ns + "/orphans"}},
				{"type": "m.room.canonical_alias", "state_key": "", "content": map[string]string{
					"alias": "#" + plan.RoomAlias(ns, "orphans", room) + ":" + homeserver.ServerName}},
			},
		})
		if err != nil {
			t.Fatalf("make the orphan: %v", err)
		}
		return id
	}

	adoptable := orphan("extra")
	t.Logf("the orphan an interrupted create left: %s", adoptable)
	alias := "#" + ns + ".orphans.extra:" + homeserver.ServerName
	eventually(t, "the orphan to get its alias back", func() (bool, string) {
		id, err := operator.ResolveAlias(ctx, alias)
		return id == adoptable, fmt.Sprintf("%s -> %q (%v)", alias, id, err)
	})
	updateSpace(t, space, func(s *collabv1.CollaborationSpace) {
		s.Spec.Chat.Rooms = append(s.Spec.Chat.Rooms, collabv1.Room{Name: "extra"})
	}, false)
	eventually(t, "the space to record the adopted room", func() (bool, string) {
		got := getSpace(t, space)
		for _, r := range got.Status.Chat.Rooms {
			if r.Name == "extra" {
				return r.RoomID == adoptable, fmt.Sprintf("extra is %s, want the orphan %s", r.RoomID, adoptable)
			}
		}
		return false, "no extra room in status yet"
	})

	duplicate := orphan("general") // general exists: this one is the duplicate
	eventually(t, "the duplicate to be removed", func() (bool, string) {
		joined, err := operator.JoinedRooms(ctx)
		return err == nil && !slices.Contains(joined, duplicate), fmt.Sprintf("operator still in %s (%v)", duplicate, err)
	})
	// A createRoom cut off right after the room was made: only the creation
	// event, which names the space, and nothing else.
	halfMade, err := operator.CreateRoom(ctx, map[string]any{"room_version": "10",
		"creation_content": map[string]string{chat.OwnerEventType: ns + "/orphans"}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the half-made room to be removed", func() (bool, string) {
		joined, err := operator.JoinedRooms(ctx)
		return err == nil && !slices.Contains(joined, halfMade), fmt.Sprintf("operator still in %s (%v)", halfMade, err)
	})
	if owned := roomsOwnedBy(t, ctx, getSpace(t, space)); len(owned) != 3 {
		t.Errorf("the operator holds %d rooms of the space, want 3 (space, general, extra): %v", len(owned), owned)
	}
}

// TestTheReaperClaimsNoAliasOutsideTheMarkersNamespace: an Owner who still holds
// power level 100 (rooms made before Owners were capped at 90) can point their
// own room's canonical alias at an alias of another namespace, and a room whose
// space was deleted under Retain is no space's any more. The reaper must not take
// such a room for an interrupted create and claim the other tenant's alias for
// it, which would stall that tenant's next room (AliasConflict).
func TestTheReaperClaimsNoAliasOutsideTheMarkersNamespace(t *testing.T) {
	ctx := testCtx(t)
	attacker, victim := newNamespace(t), newNamespace(t)
	squat := "#" + plan.RoomAlias(victim, "dept", "future") + ":" + homeserver.ServerName
	forged, err := operator.CreateRoom(ctx, map[string]any{
		"preset": "private_chat", "name": "not an orphan", "room_version": "10",
		"initial_state": []map[string]any{
			{"type": chat.OwnerEventType, "state_key": "", "content": map[string]string{"owner": attacker + "/gone"}},
			{"type": "m.room.canonical_alias", "state_key": "", "content": map[string]string{"alias": squat}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A real orphan of the attacker's own namespace, made after the forged room:
	// once it is adopted, the reaper has been over the forged room too.
	own := "#" + plan.RoomAlias(attacker, "gone", "own") + ":" + homeserver.ServerName
	orphan, err := operator.CreateRoom(ctx, map[string]any{
		"preset": "private_chat", "name": "orphan", "room_version": "10",
		"initial_state": []map[string]any{
			{"type": chat.OwnerEventType, "state_key": "", "content": map[string]string{"owner": attacker + "/gone"}},
			{"type": "m.room.canonical_alias", "state_key": "", "content": map[string]string{"alias": own}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the attacker's own orphan to be adopted", func() (bool, string) {
		id, err := operator.ResolveAlias(ctx, own)
		return id == orphan, fmt.Sprintf("%s -> %q (%v)", own, id, err)
	})
	if id, _ := operator.ResolveAlias(ctx, squat); id != "" {
		t.Errorf("the reaper pointed %s, the other namespace's alias, at %s (the forged room is %s)", squat, id, forged)
	}
}
