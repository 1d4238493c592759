package matrix

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
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

	got, complete, err := c.History(ctx, room, chat.HistoryRange{Since: start, MaxPages: 10})
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
	page, complete, err := c.History(ctx, room, chat.HistoryRange{Since: start, MaxPages: 1})
	if err != nil || complete || len(page) != 1 || page[0].ID != plain {
		t.Errorf("one page of 2 events = %v, complete %v, %v; want the newest message (the other event is its edit), incomplete",
			page, complete, err)
	}
}

// TestStreamCarriesWhoAnswersWhom: on a real Dendrite, the stream with
// messages names each new message's sender and what it answers, without
// naming the room as changed (a message changes nothing the operator keeps);
// a burst longer than the stream's timeline comes with a gap that History
// reads back exactly, from the gap to the last message seen before it; the
// history read back from a stream position holds what came before it and
// nothing after; and Sender says who sent an older message.
func TestStreamCarriesWhoAnswersWhom(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := operatorClient(t, nil)
	p := provision(t, c, space("eng-stream-messages", collabv1.VisibilityOpen,
		[]collabv1.Member{userMember("alice", collabv1.RoleOwner)}, collabv1.Room{Name: "general"}), nil)
	room := p.rooms["general"]
	alice, bob := hs.users["alice"], hs.users["bob"]
	for _, u := range []*user{alice, bob} {
		if err := u.join(ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	early, err := alice.post(ctx, room, text("before the stream"))
	if err != nil {
		t.Fatal(err)
	}
	start, err := c.SyncWithMessages(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	q, err := alice.post(ctx, room, text("shall we ship?"))
	if err != nil {
		t.Fatal(err)
	}
	r1, err := bob.post(ctx, room, replyTo("yes", q))
	if err != nil {
		t.Fatal(err)
	}
	got, next := streamed(t, c, start.Next, room, r1)
	// Dendrite gives a message its place in the stream a moment after it
	// answers the send, so the message sent just before the stream's start
	// may come after it: then the stream carries it, and the history back
	// from the start does not. Either way, exactly once.
	before, complete, err := c.History(ctx, room, chat.HistoryRange{From: start.Next, Since: time.Now().Add(-time.Hour), MaxPages: 5})
	if err != nil || !complete {
		t.Fatalf("History from the stream's start = complete %v, %v", complete, err)
	}
	has := func(msgs []insights.Message, id string) bool {
		return slices.ContainsFunc(msgs, func(m insights.Message) bool { return m.ID == id })
	}
	want := []insights.Message{{ID: q, Room: room, Sender: alice.ID}, {ID: r1, Room: room, Sender: bob.ID, Answers: q}}
	if has(got.Messages, early) {
		want = append([]insights.Message{{ID: early, Room: room, Sender: alice.ID}}, want...)
	}
	if has(before, early) == has(got.Messages, early) || has(before, q) || has(before, r1) {
		t.Errorf("history before the stream's start holds %s %v, %s %v, %s %v; want the first in it or in the stream, never both, and neither of the others",
			early, has(before, early), q, has(before, q), r1, has(before, r1))
	}
	if diff := cmp.Diff(want, got.Messages, cmpopts.IgnoreFields(insights.Message{}, "At")); diff != "" || got.Gap != "" {
		t.Errorf("streamed messages (-want +got):\n%s (gap %q)", diff, got.Gap)
	}

	// A burst of 60 messages: the stream carries the newest, and the gap
	// holds exactly the rest.
	var burst []string
	for i := range 60 {
		id, err := bob.post(ctx, room, text(fmt.Sprintf("burst %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		burst = append(burst, id)
	}
	// The stream may place the burst's last messages a moment after their
	// sends: followed until the last, the first batch has the gap.
	rm, _ := streamed(t, c, next, room, burst[len(burst)-1])
	if rm.Gap == "" || len(rm.Messages) >= 60 {
		t.Fatalf("a burst of 60 came whole (%d messages, gap %q); want the newest and a gap", len(rm.Messages), rm.Gap)
	}
	gap, complete, err := c.History(ctx, room, chat.HistoryRange{From: rm.Gap, Seen: []string{r1}, MaxPages: 5})
	if err != nil || !complete {
		t.Fatalf("History of the gap = complete %v, %v", complete, err)
	}
	var ids []string
	for i := len(gap) - 1; i >= 0; i-- {
		ids = append(ids, gap[i].ID)
	}
	for _, m := range rm.Messages {
		ids = append(ids, m.ID)
	}
	if diff := cmp.Diff(burst, ids); diff != "" {
		t.Errorf("the gap read back and the batches (-burst +got):\n%s", diff)
	}

	if who, err := c.Sender(ctx, room, early); err != nil || who != alice.ID {
		t.Errorf("Sender of the first message = %q, %v; want %s", who, err, alice.ID)
	}
}

// streamed follows the stream from since until it carried the message last
// of the room, and returns the room's messages with the position after them.
// The room is never named as changed by a message.
func streamed(t *testing.T, c *Client, since, room, last string) (chat.RoomMessages, string) {
	t.Helper()
	var got chat.RoomMessages
	for range 10 {
		b, err := c.SyncWithMessages(testContext(t), since, 500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		since = b.Next
		if slices.Contains(b.Changed, room) {
			t.Errorf("a message named room %s as changed", room)
		}
		for _, m := range b.Messages {
			if m.Room != room {
				continue
			}
			if m.Gap != "" && got.Gap != "" {
				t.Fatalf("two gaps in the room's stream")
			}
			got.Messages = append(got.Messages, m.Messages...)
			if m.Gap != "" {
				got.Gap = m.Gap
			}
		}
		if slices.ContainsFunc(got.Messages, func(m insights.Message) bool { return m.ID == last }) {
			break
		}
	}
	return got, since
}
