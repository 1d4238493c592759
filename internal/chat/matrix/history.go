package matrix

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/insights"
)

// evMessage is a message a person sent.
const evMessage = "m.room.message"

// historyPage is how many events one /messages request asks for (a variable
// for the tests' sake).
var historyPage = 100

// historyFilter keeps /messages to messages, without the members' state that
// lazy loading would add. The server still sends each message's content (a
// room event filter cannot drop fields); History decodes none of it but what
// it answers.
var historyFilter = mustJSON(map[string]any{
	"types": []string{evMessage},
})

// historyEvent is what History reads of a message. Content other than its
// relation (what it answers) is never decoded, let alone kept.
type historyEvent struct {
	ID      string `json:"event_id"`
	Type    string `json:"type"`
	Sender  string `json:"sender"`
	TS      int64  `json:"origin_server_ts"`
	Content struct {
		RelatesTo struct {
			RelType       string `json:"rel_type"`
			EventID       string `json:"event_id"`
			IsFallingBack bool   `json:"is_falling_back"`
			InReplyTo     struct {
				EventID string `json:"event_id"`
			} `json:"m.in_reply_to"`
		} `json:"m.relates_to"`
	} `json:"content"`
}

// answers is the message an event answers: the one it replies to, or, posted
// in a thread, the thread's root unless it replies to a message of the thread
// itself (a thread answer's m.in_reply_to is only a fallback for clients
// without threads when is_falling_back is set).
func (e historyEvent) answers() string {
	rel := e.Content.RelatesTo
	if rel.RelType == "m.thread" && (rel.IsFallingBack || rel.InReplyTo.EventID == "") {
		return rel.EventID
	}
	return rel.InReplyTo.EventID
}

// message is the metadata of the event, and whether it is a message a person
// sent: an edit is no new message.
func (e historyEvent) message(roomID string) (insights.Message, bool) {
	if e.Type != evMessage || e.Content.RelatesTo.RelType == "m.replace" {
		return insights.Message{}, false
	}
	return insights.Message{ID: e.ID, Room: roomID, Sender: e.Sender, At: time.UnixMilli(e.TS).UTC(), Answers: e.answers()}, true
}

var _ chat.HistoryReader = &Client{}

// History reads the metadata of the messages of a room's past, newest first,
// in at most r.MaxPages requests of historyPage events: a bounded cost to fill
// the insights' windows from what the server already holds. complete is false
// when the pages ran out before the history reached a message seen or r.Since.
func (c *Client) History(ctx context.Context, roomID string, r chat.HistoryRange) (msgs []insights.Message, complete bool, err error) {
	from := r.From
	for range r.MaxPages {
		var page struct {
			Chunk []historyEvent `json:"chunk"`
			End   string         `json:"end"`
		}
		q := url.Values{"dir": {"b"}, "limit": {strconv.Itoa(historyPage)}, "filter": {historyFilter}}
		if from != "" {
			q.Set("from", from)
		}
		cl := call{method: http.MethodGet, op: "messages", path: roomPath(roomID, "messages") + "?" + q.Encode()}
		if err := c.do(ctx, cl, &page); err != nil {
			return msgs, false, err
		}
		for _, e := range page.Chunk {
			if time.UnixMilli(e.TS).Before(r.Since) || slices.Contains(r.Seen, e.ID) {
				return msgs, true, nil
			}
			if m, ok := e.message(roomID); ok {
				msgs = append(msgs, m)
			}
		}
		if page.End == "" || len(page.Chunk) == 0 {
			return msgs, true, nil
		}
		from = page.End
	}
	return msgs, false, nil
}

// Sender is who sent one of the room's events.
func (c *Client) Sender(ctx context.Context, roomID, eventID string) (string, error) {
	var ev struct {
		Sender string `json:"sender"`
	}
	err := c.do(ctx, call{method: http.MethodGet, op: "event", path: roomPath(roomID, "event", eventID)}, &ev)
	return ev.Sender, err
}
