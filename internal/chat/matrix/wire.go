package matrix

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/opencommons/collab-operator/internal/chat"
)

// Event types and contents the operator reads and writes.
const (
	evCreate            = "m.room.create"
	evName              = "m.room.name"
	evTopic             = "m.room.topic"
	evJoinRules         = "m.room.join_rules"
	evPowerLevels       = "m.room.power_levels"
	evMember            = "m.room.member"
	evHistoryVisibility = "m.room.history_visibility"
	evGuestAccess       = "m.room.guest_access"
	evCanonicalAlias    = "m.room.canonical_alias"
	evSpaceChild        = "m.space.child"
	evSpaceParent       = "m.space.parent"
	roomTypeSpace       = "m.space"
)

// stateEvent is one event of GET /rooms/{id}/state.
type stateEvent struct {
	Type     string          `json:"type"`
	StateKey string          `json:"state_key"`
	Sender   string          `json:"sender"`
	Content  json.RawMessage `json:"content"`
	// OriginServerTS is when the event was sent, in ms since the epoch.
	OriginServerTS int64 `json:"origin_server_ts"`
}

// History visibilities: members only, whenever they joined ("shared"), or
// anyone with an account, without joining ("world_readable").
const (
	historyShared        = "shared"
	historyWorldReadable = "world_readable"
)

func historyVisibility(worldReadable bool) map[string]string {
	if worldReadable {
		return map[string]string{"history_visibility": historyWorldReadable}
	}
	return map[string]string{"history_visibility": historyShared}
}

type joinRulesContent struct {
	JoinRule string      `json:"join_rule"`
	Allow    []allowRule `json:"allow,omitempty"`
}

type allowRule struct {
	Type   string `json:"type"`
	RoomID string `json:"room_id"`
}

// ownerContent is the OwnerEventType marker.
type ownerContent struct {
	Owner    string `json:"owner"`
	Archived bool   `json:"archived,omitempty"`
}

// spaceLink is the content of m.space.child and m.space.parent; a link without
// "via" counts as removed, as the spec says.
type spaceLink struct {
	Via       []string `json:"via,omitempty"`
	Canonical bool     `json:"canonical,omitempty"`
	// Suggested asks clients to offer the child to the space's members
	// (Element lists it under the space before they join it).
	Suggested bool `json:"suggested,omitempty"`
}

// level is a power level, accepting the strings that old room versions allowed.
type level int

func (l *level) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n = json.Number(s)
	}
	i, err := strconv.Atoi(n.String())
	*l = level(i)
	return err
}

// powerLevelsContent is m.room.power_levels as the server sends it; missing
// fields are nil so the Matrix defaults can be applied.
type powerLevelsContent struct {
	Users         map[string]level `json:"users"`
	UsersDefault  *level           `json:"users_default"`
	EventsDefault *level           `json:"events_default"`
	StateDefault  *level           `json:"state_default"`
	Invite        *level           `json:"invite"`
	Kick          *level           `json:"kick"`
	Ban           *level           `json:"ban"`
	Redact        *level           `json:"redact"`
	Events        map[string]level `json:"events"`
}

// toPowerLevels applies the defaults of the Matrix spec to missing fields.
func (p powerLevelsContent) toPowerLevels() chat.PowerLevels {
	or := func(l *level, def int) int {
		if l == nil {
			return def
		}
		return int(*l)
	}
	out := chat.PowerLevels{
		Users: map[string]int{}, Events: map[string]int{},
		UsersDefault: or(p.UsersDefault, 0), EventsDefault: or(p.EventsDefault, 0),
		StateDefault: or(p.StateDefault, 50), Invite: or(p.Invite, 0),
		Kick: or(p.Kick, 50), Ban: or(p.Ban, 50), Redact: or(p.Redact, 50),
	}
	for u, l := range p.Users {
		out.Users[u] = int(l)
	}
	for e, l := range p.Events {
		out.Events[e] = int(l)
	}
	return out
}

// missing names the fields the operator writes (managedPowerLevels) that the
// event lacks. The operator always writes them all, so a missing one was taken
// out by someone else: a redaction drops "invite" in room versions up to 10.
func (p powerLevelsContent) missing() []string {
	var out []string
	for name, absent := range map[string]bool{
		"users": p.Users == nil, "users_default": p.UsersDefault == nil, "events_default": p.EventsDefault == nil,
		"state_default": p.StateDefault == nil, "invite": p.Invite == nil, "kick": p.Kick == nil,
		"ban": p.Ban == nil, "redact": p.Redact == nil, "events": p.Events == nil,
	} {
		if absent {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// managedPowerLevels is the part of m.room.power_levels the operator writes.
func managedPowerLevels(p chat.PowerLevels) map[string]any {
	users, events := p.Users, p.Events
	if users == nil {
		users = map[string]int{}
	}
	if events == nil {
		events = map[string]int{}
	}
	return map[string]any{
		"users": users, "users_default": p.UsersDefault,
		"events_default": p.EventsDefault, "state_default": p.StateDefault,
		"invite": p.Invite, "kick": p.Kick, "ban": p.Ban, "redact": p.Redact,
		"events": events,
	}
}

func joinRules(rule chat.JoinRule, allow []string) joinRulesContent {
	c := joinRulesContent{JoinRule: string(rule)}
	if rule == chat.JoinRuleRestricted {
		for _, id := range allow {
			c.Allow = append(c.Allow, allowRule{Type: "m.room_membership", RoomID: id})
		}
	}
	return c
}
