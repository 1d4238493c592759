package matrix

import (
	"fmt"
	"slices"
	"testing"
	"time"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
)

// TestArchive: after archiving, the room is closed (renamed, invite-only, posting
// locked, out of the directory and the space, alias free) but its history is
// still readable by a member and by a former member; archiving again writes
// nothing, and the alias can be taken by a new room.
func TestArchive(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	var count Counter
	c := operatorClient(t, count.Observe)
	alice, dave := hs.users["alice"], hs.users["dave"]
	p := provision(t, c, space("eng-arch", collabv1.VisibilityOpen,
		[]collabv1.Member{userMember("alice", collabv1.RoleMember)}, collabv1.Room{Name: "general"}), nil)
	room := p.rooms["general"]
	for _, u := range []*user{alice, dave} {
		if err := u.join(ctx, room); err != nil {
			t.Fatal(err)
		}
		if err := u.send(ctx, room, "hello from "+u.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := dave.leave(ctx, room); err != nil {
		t.Fatal(err)
	}

	if err := c.Archive(ctx, room, p.spaceID); err != nil {
		t.Fatalf("Archive: %v", err)
	}

	if o, err := c.Observe(ctx, plan.RoomAlias("dept-eng-arch", "eng-arch", "general")); err != nil || o != nil {
		t.Errorf("Observe by the old alias = %v, %v; want the alias freed", o, err)
	}
	o, err := c.observeRoom(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != "[archived] Dept eng-arch · general" || o.JoinRule != chat.JoinRuleInvite || o.Published ||
		o.PowerLevels.EventsDefault != 100 || !o.Archived || o.Owner != "dept-eng-arch/eng-arch" {
		t.Errorf("archived room = name %q, join rule %s, published %v, posting %d, archived %v, owner %q",
			o.Name, o.JoinRule, o.Published, o.PowerLevels.EventsDefault, o.Archived, o.Owner)
	}
	sp, err := c.Observe(ctx, plan.SpaceAlias("dept-eng-arch", "eng-arch"))
	if err != nil {
		t.Fatal(err)
	}
	if sp.Children[room] {
		t.Error("the space still lists the archived room")
	}
	wantCode(t, "a member posts in the archived room", alice.send(ctx, room, "still here?"), "M_FORBIDDEN")
	wantHistory(t, alice, room, "hello from "+alice.ID, "hello from "+dave.ID)
	wantHistory(t, dave, room, "hello from "+dave.ID)

	before := count.Writes()
	if err := c.Archive(ctx, room, p.spaceID); err != nil {
		t.Fatalf("second Archive: %v", err)
	}
	if n := count.Writes() - before; n != 0 {
		t.Errorf("second Archive made %d writes, want 0", n)
	}
	again, err := c.Create(ctx, p.specs["general"])
	if err != nil || again.RoomID == room {
		t.Errorf("Create after Archive = %v, %v; want a new room under the freed alias", again, err)
	}
}

// wantHistory waits until u can read each of the messages in room.
func wantHistory(t *testing.T, u *user, room string, want ...string) {
	t.Helper()
	ctx := testContext(t)
	eventually(t, 10*time.Second, func() error {
		got, err := u.messages(ctx, room)
		if err != nil {
			return fmt.Errorf("%s reads the history: %w", u.ID, err)
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				return fmt.Errorf("%s reads %q, missing %q", u.ID, got, w)
			}
		}
		return nil
	})
}
