package matrix

import (
	"testing"

	"github.com/opencommons/collab-operator/internal/chat"
)

// TestDeletePurges: with a server-admin account the room is purged: its alias is
// gone, a former member can no longer read it, and deleting again succeeds.
func TestDeletePurges(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	var rec recorder
	c := operatorClient(t, rec.observe)
	alice := hs.users["alice"]
	r, err := c.Create(ctx, chat.RoomSpec{AliasLocalpart: "del-purge", Name: "doomed", JoinRule: chat.JoinRulePublic, Owner: "dept-x/del"})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.join(ctx, r.RoomID); err != nil {
		t.Fatal(err)
	}
	if err := alice.send(ctx, r.RoomID, "secret plans"); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, r.RoomID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if !rec.has("purgeRoom 200") || rec.has("leave 200") {
		t.Errorf("Delete did not purge: requests %v", rec.calls)
	}
	if o, err := c.Observe(ctx, "del-purge"); err != nil || o != nil {
		t.Errorf("Observe after Delete = %v, %v; want the alias gone", o, err)
	}
	got, err := alice.messages(ctx, r.RoomID)
	if len(got) > 0 {
		t.Errorf("alice still reads %q from the purged room", got)
	}
	wantCode(t, "alice reads the purged room", err, "M_FORBIDDEN")
	if err := c.Delete(ctx, r.RoomID); err != nil {
		t.Errorf("second Delete: %v", err)
	}
}

// TestDeleteWithoutAdmin: an operator account that is no server admin cannot
// purge, so Delete removes the members, the alias and the directory entry, and
// leaves.
func TestDeleteWithoutAdmin(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	op, alice := hs.users["plainop"], hs.users["alice"]
	r, err := op.Create(ctx, chat.RoomSpec{AliasLocalpart: "del-plain", Name: "doomed", JoinRule: chat.JoinRulePublic,
		Published: true, Owner: "dept-x/del"})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.join(ctx, r.RoomID); err != nil {
		t.Fatal(err)
	}
	if err := op.Delete(ctx, r.RoomID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if o, err := op.Observe(ctx, "del-plain"); err != nil || o != nil {
		t.Errorf("Observe after Delete = %v, %v; want the alias gone", o, err)
	}
	if pub, err := alice.published(ctx, r.RoomID); err != nil || pub {
		t.Errorf("published after Delete = %v, %v; want unlisted", pub, err)
	}
	if in, err := alice.inRoom(ctx, r.RoomID); err != nil || in {
		t.Errorf("alice in the room after Delete = %v, %v; want removed", in, err)
	}
	if in, err := op.inRoom(ctx, r.RoomID); err != nil || in {
		t.Errorf("operator in the room after Delete = %v, %v; want it left", in, err)
	}
	if err := op.Delete(ctx, r.RoomID); err != nil {
		t.Errorf("second Delete: %v", err)
	}
}
