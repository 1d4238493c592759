package matrix

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/insights"
)

var _ chat.Syncer = &Client{}

// stateTypes are the events that change what the operator manages in a room; the
// stream carries only these.
var stateTypes = []string{
	evName, evTopic, evJoinRules, evPowerLevels, evMember, evHistoryVisibility, evGuestAccess,
	evCanonicalAlias, evSpaceChild, evSpaceParent, chat.OwnerEventType,
}

// evRedaction redacts an event. Redacting a state event empties its content in
// place, with no new state event, so the stream must carry redactions too: a
// Moderator (level 50 may redact) who redacts the owner marker or the power
// levels must wake the space as a changed topic would.
const evRedaction = "m.room.redaction"

// timelineTypes are what the stream's timeline carries: the managed state events
// and redactions. A redacted message wakes a pass that finds nothing to do; the
// event does not say what it redacted, and one read is cheaper than a missed
// redaction of state.
var timelineTypes = append(slices.Clone(stateTypes), evRedaction)

// messageTimelineTypes are what the stream's timeline carries when it counts
// messages too (SyncWithMessages).
var messageTimelineTypes = append(slices.Clone(timelineTypes), evMessage)

// syncFilter keeps the stream to the managed state events of joined rooms and
// redactions: no messages, presence, receipts or account data, so its cost
// follows the changes, not the number of rooms or how much people talk.
var syncFilter = streamFilter(timelineTypes)

// messageSyncFilter is syncFilter with the rooms' messages in the timeline: a
// message's content still comes (an event filter cannot drop fields) but is
// never decoded beyond what it answers.
var messageSyncFilter = streamFilter(messageTimelineTypes)

func streamFilter(timeline []string) string {
	return mustJSON(map[string]any{
		"presence":     map[string]any{"types": []string{}},
		"account_data": map[string]any{"types": []string{}},
		"room": map[string]any{
			"timeline":     map[string]any{"types": timeline, "limit": 50},
			"state":        map[string]any{"types": stateTypes, "lazy_load_members": true},
			"ephemeral":    map[string]any{"types": []string{}},
			"account_data": map[string]any{"types": []string{}},
		},
	})
}

// startFilter returns nothing at all: the first call only learns where the stream
// is now, without the state of every room the operator is in.
var startFilter = mustJSON(map[string]any{
	"presence":     map[string]any{"types": []string{}},
	"account_data": map[string]any{"types": []string{}},
	"room": map[string]any{
		"rooms":        []string{},
		"timeline":     map[string]any{"limit": 0},
		"state":        map[string]any{"types": []string{}},
		"ephemeral":    map[string]any{"types": []string{}},
		"account_data": map[string]any{"types": []string{}},
	},
})

// joinedRoom is what a batch says of a room the operator is in.
type joinedRoom struct {
	State    struct{ Events []stateEvent } `json:"state"`
	Timeline struct {
		Events    []historyEvent `json:"events"`
		Limited   bool           `json:"limited"`
		PrevBatch string         `json:"prev_batch"`
	} `json:"timeline"`
}

type syncResponse struct {
	NextBatch string `json:"next_batch"`
	Rooms     struct {
		Join  map[string]joinedRoom      `json:"join"`
		Leave map[string]json.RawMessage `json:"leave"`
	} `json:"rooms"`
}

var _ chat.MessageSyncer = &Client{}

// Sync long-polls /sync. Events the operator sent itself are its own writes, not
// changes to put back, so they wake no one.
func (c *Client) Sync(ctx context.Context, since string, timeout time.Duration) (chat.SyncBatch, error) {
	return c.sync(ctx, since, timeout, syncFilter)
}

// SyncWithMessages is Sync with the rooms' messages too. A room whose
// timeline the server cut short (more messages than its limit) names where
// the messages left out end (RoomMessages.Gap).
func (c *Client) SyncWithMessages(ctx context.Context, since string, timeout time.Duration) (chat.SyncBatch, error) {
	return c.sync(ctx, since, timeout, messageSyncFilter)
}

func (c *Client) sync(ctx context.Context, since string, timeout time.Duration, filter string) (chat.SyncBatch, error) {
	self, err := c.self(ctx)
	if err != nil {
		return chat.SyncBatch{}, err
	}
	q := url.Values{"filter": {filter}, "timeout": {strconv.FormatInt(timeout.Milliseconds(), 10)}}
	if since == "" {
		q = url.Values{"filter": {startFilter}, "timeout": {"0"}}
	} else {
		q.Set("since", since)
	}
	var out syncResponse
	if err := c.do(ctx, call{method: http.MethodGet, op: "sync", path: v3 + "/sync?" + q.Encode()}, &out); err != nil {
		if since != "" && (hasCode(err, "M_UNKNOWN_POS") || hasCode(err, "M_INVALID_PARAM")) {
			return chat.SyncBatch{}, fmt.Errorf("%w: %w", chat.ErrUnknownPosition, err)
		}
		return chat.SyncBatch{}, err
	}
	batch := chat.SyncBatch{Next: out.NextBatch}
	if since == "" {
		return batch, nil
	}
	for id, room := range out.Rooms.Join {
		if changedByOthers(self, room) {
			batch.Changed = append(batch.Changed, id)
		}
		if msgs := messagesOf(id, room.Timeline.Events); len(msgs) > 0 || room.Timeline.Limited {
			rm := chat.RoomMessages{Room: id, Messages: msgs}
			if room.Timeline.Limited {
				rm.Gap = room.Timeline.PrevBatch
			}
			batch.Messages = append(batch.Messages, rm)
		}
	}
	slices.SortFunc(batch.Messages, func(a, b chat.RoomMessages) int { return strings.Compare(a.Room, b.Room) })
	for id := range out.Rooms.Leave {
		batch.Changed = append(batch.Changed, id)
	}
	slices.Sort(batch.Changed)
	return batch, nil
}

// changedByOthers reports whether someone else changed the room's state (or
// redacted an event): a message changes nothing the operator keeps. While the
// timeline holds every event since the last batch (not limited), the state
// section holds only the member events of the timeline's senders that lazy
// loading adds, which change nothing either.
func changedByOthers(self string, room joinedRoom) bool {
	for _, e := range room.State.Events {
		if e.Type == evMember && !room.Timeline.Limited {
			continue
		}
		if e.Sender != self && e.Type != "" {
			return true
		}
	}
	for _, e := range room.Timeline.Events {
		if e.Sender != self && e.Type != "" && e.Type != evMessage {
			return true
		}
	}
	return false
}

// messagesOf are the messages among a timeline's events, oldest first.
func messagesOf(roomID string, events []historyEvent) []insights.Message {
	var out []insights.Message
	for _, e := range events {
		if m, ok := e.message(roomID); ok {
			out = append(out, m)
		}
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
