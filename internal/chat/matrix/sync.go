package matrix

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
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

// syncFilter keeps the stream to the managed state events of joined rooms and
// redactions: no messages, presence, receipts or account data, so its cost
// follows the changes, not the number of rooms or how much people talk.
var syncFilter = mustJSON(map[string]any{
	"presence":     map[string]any{"types": []string{}},
	"account_data": map[string]any{"types": []string{}},
	"room": map[string]any{
		"timeline":     map[string]any{"types": timelineTypes, "limit": 50},
		"state":        map[string]any{"types": stateTypes, "lazy_load_members": true},
		"ephemeral":    map[string]any{"types": []string{}},
		"account_data": map[string]any{"types": []string{}},
	},
})

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

type syncResponse struct {
	NextBatch string `json:"next_batch"`
	Rooms     struct {
		Join map[string]struct {
			State    struct{ Events []stateEvent } `json:"state"`
			Timeline struct{ Events []stateEvent } `json:"timeline"`
		} `json:"join"`
		Leave map[string]json.RawMessage `json:"leave"`
	} `json:"rooms"`
}

// Sync long-polls /sync. Events the operator sent itself are its own writes, not
// changes to put back, so they wake no one.
func (c *Client) Sync(ctx context.Context, since string, timeout time.Duration) (chat.SyncBatch, error) {
	self, err := c.self(ctx)
	if err != nil {
		return chat.SyncBatch{}, err
	}
	q := url.Values{"filter": {syncFilter}, "timeout": {strconv.FormatInt(timeout.Milliseconds(), 10)}}
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
		if changedByOthers(self, room.State.Events) || changedByOthers(self, room.Timeline.Events) {
			batch.Changed = append(batch.Changed, id)
		}
	}
	for id := range out.Rooms.Leave {
		batch.Changed = append(batch.Changed, id)
	}
	slices.Sort(batch.Changed)
	return batch, nil
}

func changedByOthers(self string, events []stateEvent) bool {
	return slices.ContainsFunc(events, func(ev stateEvent) bool { return ev.Sender != self && ev.Type != "" })
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
