package matrix

import (
	"encoding/json"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
)

// parseState reads the fields the operator manages out of a room's state. Events
// it cannot parse are skipped: a malformed event by hand shows up as drift and is
// overwritten, rather than blocking the room.
func parseState(roomID string, events []stateEvent) *chat.ObservedRoom {
	r := &chat.ObservedRoom{
		RoomID:   roomID,
		Members:  map[string]chat.Membership{},
		Declined: map[string]bool{},
		Children: map[string]bool{},
		Parents:  map[string]bool{},
		// A room without a power levels event lets everyone do everything.
		PowerLevels: chat.PowerLevels{Users: map[string]int{}, Events: map[string]int{}},
	}
	for _, ev := range events {
		apply(r, ev)
	}
	return r
}

func apply(r *chat.ObservedRoom, ev stateEvent) {
	switch ev.Type {
	case evCreate:
		var c struct {
			Type  string `json:"type"`
			Owner string `json:"io.opencommons.collab.owner"`
		}
		ok := unmarshal(ev, &c)
		r.Space = ok && c.Type == roomTypeSpace
		r.CreatedFor = c.Owner
		r.Creator = ev.Sender
		if ev.OriginServerTS > 0 {
			r.Created = time.UnixMilli(ev.OriginServerTS)
		}
	case evCanonicalAlias:
		var c struct {
			Alias string `json:"alias"`
		}
		unmarshal(ev, &c)
		r.CanonicalAlias = c.Alias
	case evName:
		var c struct {
			Name string `json:"name"`
		}
		unmarshal(ev, &c)
		r.Name = c.Name
	case evTopic:
		var c struct {
			Topic string `json:"topic"`
		}
		unmarshal(ev, &c)
		r.Topic = c.Topic
	case evJoinRules:
		applyJoinRules(r, ev)
	case evHistoryVisibility:
		var c struct {
			HistoryVisibility string `json:"history_visibility"`
		}
		unmarshal(ev, &c)
		r.WorldReadable = c.HistoryVisibility == historyWorldReadable
	case evPowerLevels:
		var c powerLevelsContent
		if unmarshal(ev, &c) {
			r.PowerLevels, r.PowerLevelsMissing = c.toPowerLevels(), c.missing()
		}
	case evMember:
		applyMember(r, ev)
	case evSpaceChild, evSpaceParent:
		applyLink(r, ev)
	case chat.OwnerEventType:
		var c ownerContent
		unmarshal(ev, &c)
		r.Owner, r.Archived, r.OwnerSender = c.Owner, c.Archived, ev.Sender
	}
}

func applyJoinRules(r *chat.ObservedRoom, ev stateEvent) {
	var c joinRulesContent
	unmarshal(ev, &c)
	r.JoinRule = chat.JoinRule(c.JoinRule)
	r.AllowRoomIDs = nil
	for _, a := range c.Allow {
		if a.Type == "m.room_membership" {
			r.AllowRoomIDs = append(r.AllowRoomIDs, a.RoomID)
		}
	}
}

// applyMember records a membership; a leave sent by the user themselves means
// they left or declined, which the planner respects.
func applyMember(r *chat.ObservedRoom, ev stateEvent) {
	var c struct {
		Membership string `json:"membership"`
	}
	if !unmarshal(ev, &c) || c.Membership == "" {
		return
	}
	m := chat.Membership(c.Membership)
	r.Members[ev.StateKey] = m
	if m == chat.MembershipLeave && ev.Sender == ev.StateKey {
		r.Declined[ev.StateKey] = true
	}
}

func applyLink(r *chat.ObservedRoom, ev stateEvent) {
	var c spaceLink
	if !unmarshal(ev, &c) || len(c.Via) == 0 {
		return
	}
	if ev.Type == evSpaceChild {
		r.Children[ev.StateKey] = true
	} else {
		r.Parents[ev.StateKey] = true
	}
}

func unmarshal(ev stateEvent, v any) bool {
	return json.Unmarshal(ev.Content, v) == nil
}
