package matrix

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/insights"
)

// post sends a message with the given content and returns its event id.
func (u *user) post(ctx context.Context, roomID string, content map[string]any) (string, error) {
	var out struct {
		EventID string `json:"event_id"`
	}
	path := roomPath(roomID, "send", "m.room.message", fmt.Sprintf("t%d", txn.Add(1)))
	err := u.do(ctx, call{method: http.MethodPut, op: "send", path: path, body: content}, &out)
	return out.EventID, err
}

func text(body string) map[string]any { return map[string]any{"msgtype": "m.text", "body": body} }

// replyTo is a rich reply to id; inThread an answer in the thread of root.
func replyTo(body, id string) map[string]any {
	c := text(body)
	c["m.relates_to"] = map[string]any{"m.in_reply_to": map[string]any{"event_id": id}}
	return c
}

func inThread(body, root, latest string) map[string]any {
	c := text(body)
	c["m.relates_to"] = map[string]any{"rel_type": "m.thread", "event_id": root,
		"is_falling_back": true, "m.in_reply_to": map[string]any{"event_id": latest}}
	return c
}

// TestHistoryReadsWhoAnswersWhom: the history of a room as the insights read
// it, on a real Dendrite: each message's sender and time and the message it
// answers (a reply, an answer in a thread), nothing else; a topic change and
// an edit are no messages; the history stops at since; and the pages are bounded.
func TestHistoryReadsWhoAnswersWhom(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := operatorClient(t, nil)
	p := provision(t, c, space("eng-history", collabv1.VisibilityOpen,
		[]collabv1.Member{userMember("alice", collabv1.RoleOwner)}, collabv1.Room{Name: "general"}), nil)
	room := p.rooms["general"]
	alice, bob, carol := hs.users["alice"], hs.users["bob"], hs.users["carol"]
	for _, u := range []*user{alice, bob, carol} {
		if err := u.join(ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now().Add(-time.Second)
	q, err := alice.post(ctx, room, text("shall we ship on Friday?"))
	if err != nil {
		t.Fatal(err)
	}
	r1, err := bob.post(ctx, room, replyTo("yes", q))
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.do(ctx, call{method: http.MethodPut, op: "state", path: statePath(room, evTopic, ""),
		body: map[string]string{"topic": "Shipping"}}, nil); err != nil {
		t.Fatal(err)
	}
	r2, err := carol.post(ctx, room, inThread("after the review", q, r1))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := bob.post(ctx, room, text("lunch?"))
	if err != nil {
		t.Fatal(err)
	}
	edit := text("* lunch at 1?")
	edit["m.new_content"] = text("lunch at 1?")
	edit["m.relates_to"] = map[string]any{"rel_type": "m.replace", "event_id": plain}
	if _, err := bob.post(ctx, room, edit); err != nil {
		t.Fatal(err)
	}

	got, complete, err := c.History(ctx, room, start, 10)
	if err != nil || !complete {
		t.Fatalf("History = complete %v, %v; want all of it", complete, err)
	}
	want := []insights.Message{ // newest first
		{ID: plain, Room: room, Sender: bob.ID},
		{ID: r2, Room: room, Sender: carol.ID, Answers: q},
		{ID: r1, Room: room, Sender: bob.ID, Answers: q},
		{ID: q, Room: room, Sender: alice.ID},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(insights.Message{}, "At")); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	for _, m := range got {
		if m.At.Before(start) || m.At.After(time.Now()) {
			t.Errorf("message %s sent at %s, want between %s and now", m.ID, m.At, start)
		}
	}

	historyPage = 2
	t.Cleanup(func() { historyPage = 100 })
	page, complete, err := c.History(ctx, room, start, 1)
	if err != nil || complete || len(page) != 1 || page[0].ID != plain {
		t.Errorf("one page of 2 events = %v, complete %v, %v; want the newest message (the other event is its edit), incomplete",
			page, complete, err)
	}
}
