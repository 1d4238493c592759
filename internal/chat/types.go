package chat

import (
	"slices"
	"time"
)

// JoinRule says who may join a room without an invitation.
type JoinRule string

const (
	// JoinRulePublic lets anyone on the server join.
	JoinRulePublic JoinRule = "public"
	// JoinRuleRestricted lets members of the rooms in RoomSpec.AllowRoomIDs join
	// (usually the department's space and the spaces a room is shared with).
	JoinRuleRestricted JoinRule = "restricted"
	// JoinRuleInvite lets only invited users join.
	JoinRuleInvite JoinRule = "invite"
)

// Membership is a user's state in a room, as the m.room.member event says.
type Membership string

const (
	MembershipJoin   Membership = "join"
	MembershipInvite Membership = "invite"
	MembershipLeave  Membership = "leave"
	MembershipBan    Membership = "ban"
	MembershipKnock  Membership = "knock"
)

// OwnerEventType is the state event that names the CollaborationSpace a room was
// made for. It counts only when the operator's own account sent it (and created
// the room): sending it needs power level 100, which no person holds, so a room
// that merely holds the same alias, or a marker a user wrote, is reported
// (ErrAliasConflict) rather than adopted. See CheckOwner.
const OwnerEventType = "io.opencommons.collab.owner"

// ArchivedNamePrefix starts the name of an archived room.
const ArchivedNamePrefix = "[archived] "

// PowerLevels is the content of a room's m.room.power_levels event: who may do what.
// Values missing from the server's event are filled with the Matrix defaults when
// observed, so two PowerLevels compare by meaning.
type PowerLevels struct {
	Users         map[string]int
	UsersDefault  int
	EventsDefault int
	StateDefault  int
	Invite        int
	Kick          int
	Ban           int
	Redact        int
	Events        map[string]int
}

// UserLevel is the level a user effectively has: their own entry or UsersDefault.
func (p PowerLevels) UserLevel(userID string) int {
	if l, ok := p.Users[userID]; ok {
		return l
	}
	return p.UsersDefault
}

// RoomSpec is the desired state of one room or space.
type RoomSpec struct {
	// AliasLocalpart finds the room again: #<AliasLocalpart>:<serverName>.
	AliasLocalpart string
	// CanonicalAlias is the full alias the room should publish as its own
	// (m.room.canonical_alias); empty leaves it unmanaged.
	CanonicalAlias string
	// Name and Topic shown to users.
	Name, Topic string
	// PriorNames are names the operator itself gave the room under an earlier
	// naming (an upgrade, the backend's roomNameTemplate set): renaming such a
	// room is asked for, not drift.
	PriorNames []string
	// Space makes the room a Matrix space (creation type m.space). It is fixed when
	// the room is created.
	Space bool
	// JoinRule says who may join without an invitation.
	JoinRule JoinRule
	// AllowRoomIDs are the rooms (spaces) whose members may join a restricted room.
	AllowRoomIDs []string
	// Published lists the room in the server's public room directory.
	Published bool
	// WorldReadable lets anyone with an account read the room's state and
	// history without joining (history_visibility world_readable): what a
	// server needs before it shows a space's hierarchy to a non-member.
	// Otherwise history is "shared", readable by members only.
	WorldReadable bool
	// PowerLevels of the room, written as given: the zero value would let anyone
	// do anything, so build specs with a Planner.
	PowerLevels PowerLevels
	// Invite lists the user ids that should be members; they are invited when they
	// are neither joined nor invited, unless the room is OfferedInSpace.
	Invite []string
	// OfferedInSpace: the room's members reach it from its space, where it is a
	// suggested child they may join in one step, so nobody gets an invitation
	// to the room itself. Invite stays the room's members for every other
	// purpose (an Authoritative plan keeps them).
	OfferedInSpace bool
	// SharedMembers are the users in the spaces the room is shared with (joined
	// or invited to their space rooms): members of the room for every purpose,
	// so an Authoritative plan never removes them and never asks the removal
	// budget about them.
	SharedMembers []string
	// Owner is "namespace/name" of the CollaborationSpace the room belongs to,
	// stored in the OwnerEventType state event.
	Owner string
	// Children are the room ids a space should list (m.space.child). Nil means the
	// children are not managed; the controller fills it once the rooms exist.
	Children []string
	// Unlink are room ids the space must not list even when its children are
	// not pruned: rooms of other spaces that are no longer shared with it.
	// Children wins over Unlink.
	Unlink []string
	// Parent is the id of the space the room belongs to (m.space.parent); empty for
	// none.
	Parent string
}

// Invitations are the users to invite to the room: none when members join it
// from its space.
func (s RoomSpec) Invitations() []string {
	if s.OfferedInSpace {
		return nil
	}
	return s.Invite
}

// ObservedRoom is a room as the chat server holds it.
type ObservedRoom struct {
	RoomID string
	// Alias is the full alias the room was found by, e.g. "#eng-general:example.org".
	Alias string
	// Creator sent the room's m.room.create event, at Created. CreatedFor is the
	// owner the operator put into that event, which tells a room whose create was
	// cut off before its state apart from anyone else's.
	Creator    string
	Created    time.Time
	CreatedFor string
	// CanonicalAlias is the alias of the room's m.room.canonical_alias event.
	CanonicalAlias string
	Name, Topic    string
	Space          bool
	JoinRule       JoinRule
	AllowRoomIDs   []string
	Published      bool
	// WorldReadable: the room's history_visibility is world_readable.
	WorldReadable bool
	PowerLevels   PowerLevels
	// PowerLevelsMissing names the fields of the power levels event the operator
	// writes but the server's event lacks (their Matrix defaults are in
	// PowerLevels). A redaction strips some; the planner writes them back.
	PowerLevelsMissing []string
	// Members maps every user with a membership event to their membership.
	Members map[string]Membership
	// Declined holds the users whose "leave" was their own doing: they left, or
	// rejected an invitation. They are not invited again.
	Declined map[string]bool
	// Children are the m.space.child state keys with non-empty content.
	Children map[string]bool
	// Parents are the m.space.parent state keys with non-empty content.
	Parents map[string]bool
	// Owner is the CollaborationSpace named by the OwnerEventType event, "" if none.
	Owner string
	// OwnerSender sent the OwnerEventType event.
	OwnerSender string
	// Archived is set once Archive has begun on the room.
	Archived bool
}

// MarkerRedacted reports whether the room holds an owner marker the operator sent
// whose content is gone: the operator always names the owner, so a marker of its
// own without one was redacted.
func (o *ObservedRoom) MarkerRedacted(operator string) bool {
	return o.OwnerSender != "" && o.OwnerSender == operator && o.Owner == ""
}

// Joined reports whether the user is joined or invited.
func (o *ObservedRoom) Joined(userID string) bool {
	m := o.Members[userID]
	return m == MembershipJoin || m == MembershipInvite
}

// SameSet reports whether a and b hold the same strings, ignoring order and
// duplicates.
func SameSet(a, b []string) bool {
	a, b = sortedSet(a), sortedSet(b)
	return slices.Equal(a, b)
}

func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
