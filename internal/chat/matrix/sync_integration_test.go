package matrix

import (
	"context"
	"slices"
	"testing"
	"time"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

// TestSyncReportsChangesByOthers: the stream names a room whose topic a person
// changed, within one long poll, and stays quiet about the operator's own writes.
func TestSyncReportsChangesByOthers(t *testing.T) {
	ctx := testContext(t)
	c := operatorClient(t, nil)
	alice := hs.users["alice"]
	p := provision(t, c, space("eng-sync", collabv1.VisibilityDepartment,
		[]collabv1.Member{userMember("alice", collabv1.RoleOwner)}, collabv1.Room{Name: "general"}), nil)
	room := p.rooms["general"]
	if err := alice.join(ctx, room); err != nil {
		t.Fatal(err)
	}
	start, err := c.Sync(ctx, "", 0)
	if err != nil || start.Next == "" || len(start.Changed) != 0 {
		t.Fatalf("first Sync = %+v, %v; want a token and no rooms", start, err)
	}
	// alice's join may reach the stream just after that position: let it pass.
	for range 5 {
		b, err := c.Sync(ctx, start.Next, 300*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		start.Next = b.Next
		if len(b.Changed) == 0 {
			break
		}
	}

	// The operator's own write wakes nobody.
	if err := c.Update(ctx, room, []chat.Action{chat.SetTopic{Topic: "set by the operator"}}); err != nil {
		t.Fatal(err)
	}
	own, err := c.Sync(ctx, start.Next, 300*time.Millisecond)
	if err != nil || slices.Contains(own.Changed, room) {
		t.Fatalf("Sync after the operator's own write = %+v, %v; want the room not named", own, err)
	}

	// A person's write is named within one long poll.
	done := make(chan chat.SyncBatch, 1)
	go func() {
		b, err := c.Sync(context.Background(), own.Next, 10*time.Second)
		if err != nil {
			t.Error(err)
		}
		done <- b
	}()
	time.Sleep(200 * time.Millisecond)
	changedAt := time.Now()
	if err := alice.Update(ctx, room, []chat.Action{chat.SetTopic{Topic: "lunch plans"}}); err != nil {
		t.Fatal(err)
	}
	b := <-done
	if !slices.Contains(b.Changed, room) {
		t.Fatalf("Sync = %+v, want room %s named", b, room)
	}
	if took := time.Since(changedAt); took > 5*time.Second {
		t.Errorf("the change was reported after %s", took)
	}
}
