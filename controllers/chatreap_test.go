package controllers

import (
	"fmt"
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chatplan"
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
					"alias": "#" + chatplan.RoomAlias(ns, "orphans", room) + ":" + homeserver.ServerName}},
			},
		})
		if err != nil {
			t.Fatalf("make the orphan: %v", err)
		}
		return id
	}

	adoptable := orphan("extra")
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
