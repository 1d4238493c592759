package chat

import (
	"fmt"
	"strings"
)

// Action is one change to an existing room. A Planner plans them, a Client
// applies them in order with Update. The set is closed (the unexported method) so
// every Client can handle every action.
type Action interface {
	// String says in a few words what the action changes, for events and logs.
	String() string
	isAction()
}

// SetName renames the room.
type SetName struct{ Name string }

// SetTopic changes the room's topic.
type SetTopic struct{ Topic string }

// SetJoinRules changes who may join; AllowRoomIDs matter for JoinRuleRestricted.
type SetJoinRules struct {
	JoinRule     JoinRule
	AllowRoomIDs []string
}

// SetPowerLevels replaces the levels the operator manages. A Client keeps the parts
// of the server's event it does not model (e.g. "notifications").
type SetPowerLevels struct{ PowerLevels PowerLevels }

// SetPublished lists the room in, or removes it from, the public room directory.
type SetPublished struct{ Published bool }

// SetWorldReadable makes the room readable by anyone with an account without
// joining (history_visibility world_readable), or by its members only ("shared").
type SetWorldReadable struct{ WorldReadable bool }

// Invite invites a user.
type Invite struct{ UserID string }

// Kick removes a joined user or withdraws an invitation.
type Kick struct{ UserID, Reason string }

// AddChild lists a room in a space (m.space.child).
type AddChild struct{ RoomID string }

// RemoveChild takes a room out of a space.
type RemoveChild struct{ RoomID string }

// SetParent names the space a room belongs to (m.space.parent, canonical).
type SetParent struct{ SpaceID string }

// SetCanonicalAlias publishes an alias, which must point at the room, as the
// room's own (m.room.canonical_alias).
type SetCanonicalAlias struct{ Alias string }

// SetOwner writes the owner marker (OwnerEventType) naming the space again, e.g.
// after someone redacted it.
type SetOwner struct{ Owner string }

func (SetName) isAction()           {}
func (SetTopic) isAction()          {}
func (SetJoinRules) isAction()      {}
func (SetPowerLevels) isAction()    {}
func (SetPublished) isAction()      {}
func (SetWorldReadable) isAction()  {}
func (Invite) isAction()            {}
func (Kick) isAction()              {}
func (AddChild) isAction()          {}
func (RemoveChild) isAction()       {}
func (SetParent) isAction()         {}
func (SetCanonicalAlias) isAction() {}
func (SetOwner) isAction()          {}

func (a SetName) String() string  { return fmt.Sprintf("set name to %q", a.Name) }
func (a SetTopic) String() string { return fmt.Sprintf("set topic to %q", a.Topic) }
func (a SetJoinRules) String() string {
	if a.JoinRule == JoinRuleRestricted {
		return fmt.Sprintf("set join rule to restricted to members of %s",
			strings.Join(a.AllowRoomIDs, ", "))
	}
	return fmt.Sprintf("set join rule to %s", a.JoinRule)
}
func (a SetPowerLevels) String() string { return "set power levels" }
func (a SetPublished) String() string {
	if a.Published {
		return "publish in the room directory"
	}
	return "remove from the room directory"
}
func (a SetWorldReadable) String() string {
	if a.WorldReadable {
		return "let anyone read it without joining"
	}
	return "let only its members read it"
}
func (a Invite) String() string      { return "invite " + a.UserID }
func (a Kick) String() string        { return "remove " + a.UserID }
func (a AddChild) String() string    { return "add child room " + a.RoomID }
func (a RemoveChild) String() string { return "remove child room " + a.RoomID }
func (a SetParent) String() string   { return "set parent space " + a.SpaceID }
func (a SetOwner) String() string    { return "set owner marker to " + a.Owner }
func (a SetCanonicalAlias) String() string {
	return "set canonical alias " + a.Alias
}
