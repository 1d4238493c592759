package controllers

import (
	"context"
	"maps"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
)

// TestUpgradeKeepsLegacyRooms: rooms the previous version made — aliases #<space>
// and #<space>-<room>, Owners at 100 beside the operator, the canonical alias open
// to moderators — are found again with the same ids, given their namespaced
// aliases and moved to the new levels, with no room made twice.
func TestUpgradeKeepsLegacyRooms(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	space := chatSpace(ns, "legacy", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	spaceID, generalID := createLegacyRooms(t, ctx, space)

	space.Spec.Members = append(space.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: "erin", Role: collabv1.RoleOwner})
	createSpace(t, space)
	got := waitReady(t, client.ObjectKeyFromObject(space))

	if got.Status.Chat.SpaceID != spaceID || roomID(t, got, "general") != generalID {
		t.Fatalf("status has space %s and general %s, want the legacy rooms %s and %s kept",
			got.Status.Chat.SpaceID, roomID(t, got, "general"), spaceID, generalID)
	}
	server := homeserver.ServerName
	for alias, want := range map[string]string{
		"#" + ns + ".legacy:" + server: spaceID, "#" + ns + ".legacy.general:" + server: generalID,
		"#legacy:" + server: spaceID, "#legacy-general:" + server: generalID,
	} {
		if id, err := operator.ResolveAlias(ctx, alias); err != nil || id != want {
			t.Errorf("alias %s resolves to %q (%v), want %s", alias, id, err, want)
		}
	}
	var canonical struct {
		Alias string `json:"alias"`
	}
	if err := operator.State(ctx, generalID, "m.room.canonical_alias", &canonical); err != nil ||
		canonical.Alias != "#"+ns+".legacy.general:"+server {
		t.Errorf("canonical alias of general = %q (%v), want the namespaced alias", canonical.Alias, err)
	}

	var levels struct {
		Users  map[string]int `json:"users"`
		Events map[string]int `json:"events"`
	}
	if err := operator.State(ctx, generalID, "m.room.power_levels", &levels); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{"m.room.power_levels", "m.room.join_rules", "m.room.canonical_alias", "m.space.parent", chat.OwnerEventType} {
		if levels.Events[ev] != 100 {
			t.Errorf("%s needs level %d after the upgrade, want 100", ev, levels.Events[ev])
		}
	}
	wantUsers := map[string]int{
		operator.ID:           100,
		person(t, "erin").ID:  90,  // a new Owner
		person(t, "carol").ID: 50,  // Moderator
		person(t, "dave").ID:  100, // an Owner at 100 from before: Matrix forbids lowering a peer
		person(t, "alice").ID: 0,
	}
	for u, want := range wantUsers {
		if levels.Users[u] != want {
			t.Errorf("level of %s = %d, want %d (all %v)", u, levels.Users[u], want, levels.Users)
		}
	}
	if owned := roomsOwnedBy(t, ctx, space); len(owned) != 2 {
		t.Errorf("the operator is in %d rooms of %s/legacy, want 2 (space and general): %v", len(owned), ns, owned)
	}
}

// createLegacyRooms makes a space's rooms as the previous version did, with the
// operator's own account, and returns their ids.
func createLegacyRooms(t *testing.T, ctx context.Context, space *collabv1.CollaborationSpace) (string, string) {
	t.Helper()
	c, err := matrix.New(matrix.Config{HomeserverURL: homeserver.URL, ServerName: homeserver.ServerName, AccessToken: operator.Token()})
	if err != nil {
		t.Fatal(err)
	}
	planner := plan.New(plan.Config{ServerName: homeserver.ServerName, OwnerLevel: 100})
	in := chat.DesiredInput{OperatorUserID: operator.ID}
	legacy := func(spec chat.RoomSpec, alias string) chat.RoomSpec {
		spec.AliasLocalpart, spec.CanonicalAlias = alias, ""
		spec.PowerLevels.Events = maps.Clone(spec.PowerLevels.Events)
		spec.PowerLevels.Events["m.room.canonical_alias"] = 50
		delete(spec.PowerLevels.Events, "m.room.guest_access")
		return spec
	}
	layout, err := planner.Layout(space, in)
	if err != nil {
		t.Fatal(err)
	}
	spaceSpec := layout.SpaceRoom
	sp, err := c.Create(ctx, legacy(spaceSpec, plan.LegacySpaceAlias(space.Name)))
	if err != nil {
		t.Fatalf("create the legacy space room: %v", err)
	}
	rooms, err := layout.Rooms(sp.RoomID)
	if err != nil {
		t.Fatal(err)
	}
	general, err := c.Create(ctx, legacy(rooms[0], plan.LegacyRoomAlias(space.Name, "general")))
	if err != nil {
		t.Fatalf("create the legacy room: %v", err)
	}
	if err := c.Update(ctx, sp.RoomID, []chat.Action{chat.AddChild{RoomID: general.RoomID}}); err != nil {
		t.Fatal(err)
	}
	return sp.RoomID, general.RoomID
}
