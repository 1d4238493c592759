package plan

import (
	"slices"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

// Power levels of the role model (DESIGN.md). The operator alone holds 100, the
// level the events that define a room need (managedEvents): no person can change a
// room's power levels, join rules, links or owner marker, so a room's shape and
// its proof of ownership stay the operator's. Owners sit just below (90 unless the
// ChatBackend says otherwise), which also lets the operator lower an Owner who
// loses the role: Matrix only lets a sender change levels below its own.
const (
	// LevelOperator is the operator account's level in every room it makes.
	LevelOperator = 100
	// DefaultOwnerLevel is an Owner's level unless the ChatBackend sets one.
	DefaultOwnerLevel = 90
	levelModerator    = 50
	levelMember       = 0
)

// Layout implements chat.Planner: the space room (a Matrix space) first, its
// rooms once its id is known, as their restricted join rules admit its members
// and each links to it as its parent, then the space room listing them as its
// children.
func (p *Planner) Layout(space *collabv1.CollaborationSpace, in chat.DesiredInput) (chat.Layout, error) {
	spaceRoom, _, err := p.desired(space, in, "")
	if err != nil {
		return chat.Layout{}, err
	}
	return chat.Layout{
		SpaceRoom: spaceRoom,
		Rooms: func(spaceRoomID string) ([]chat.RoomSpec, error) {
			_, rooms, err := p.desired(space, in, spaceRoomID)
			return rooms, err
		},
		Listing: func(rooms, link, unlink []string) chat.RoomSpec {
			listing := spaceRoom
			listing.Children = append(slices.Clone(rooms), link...)
			listing.Unlink = unlink
			return listing
		},
	}, nil
}

// DesiredRooms implements chat.Planner.
func (p *Planner) DesiredRooms(space *collabv1.CollaborationSpace, in chat.DesiredInput) (chat.RoomSpec, []chat.RoomSpec, error) {
	return p.desired(space, in, "")
}

// desired is the space room and the rooms, under the space room spaceRoomID
// once it exists.
//
// Members of kind User reach chat, and Group members through the people the
// directory resolved them to (in.People). ServiceAccount members have no Matrix
// projection.
func (p *Planner) desired(space *collabv1.CollaborationSpace, in chat.DesiredInput, spaceRoomID string) (chat.RoomSpec, []chat.RoomSpec, error) {
	ownerLevel := p.ownerLevel()
	users, err := p.memberLevels(space.Spec.Members, in.People, ownerLevel)
	if err != nil {
		return chat.RoomSpec{}, nil, err
	}
	owner := space.Namespace + "/" + space.Name
	invite := sortedKeys(users)
	spaceAlias := SpaceAlias(space.Namespace, space.Name)
	spaceRoom := chat.RoomSpec{
		AliasLocalpart: spaceAlias,
		CanonicalAlias: FullAlias(spaceAlias, p.cfg.ServerName),
		Name:           space.Spec.Department,
		Topic:          space.Spec.Description,
		Space:          true,
		JoinRule:       spaceJoinRule(space.Spec.Visibility),
		Published:      space.Spec.Visibility == collabv1.VisibilityOpen,
		PowerLevels:    powerLevels(users, in.OperatorUserID, ownerLevel),
		Invite:         invite,
		Owner:          owner,
	}
	// An Open space is browsable from the directory by anyone with an account;
	// its rooms keep their history to those who join (they are public, so
	// joining is one step).
	spaceRoom.WorldReadable = space.Spec.Visibility == collabv1.VisibilityOpen
	names, err := p.roomNames(space)
	if err != nil {
		return chat.RoomSpec{}, nil, err
	}
	var rooms []chat.RoomSpec
	if space.Spec.Chat != nil {
		for i, r := range space.Spec.Chat.Rooms {
			alias := RoomAlias(space.Namespace, space.Name, r.Name)
			room := chat.RoomSpec{
				AliasLocalpart: alias,
				CanonicalAlias: FullAlias(alias, p.cfg.ServerName),
				Name:           names[i],
				PriorNames:     priorNames(space, r.Name, names[i]),
				Topic:          r.Topic,
				Published:      space.Spec.Visibility == collabv1.VisibilityOpen,
				PowerLevels:    powerLevels(users, in.OperatorUserID, postingLevel(r.Posting, ownerLevel)),
				Invite:         invite,
				Owner:          owner,
				Parent:         spaceRoomID,
			}
			room.JoinRule, room.AllowRoomIDs = roomJoinRule(space.Spec.Visibility, r.SharedWith, in, spaceRoomID)
			room.OfferedInSpace = p.offeredInSpace(room)
			rooms = append(rooms, room)
		}
	}
	return spaceRoom, rooms, nil
}

// offeredInSpace: unless the backend asks for an invitation to each room, a
// room that its space's members may join without one (public, or restricted
// to the space) is offered in the space instead. An invite-only room still
// needs its invitations, and so does any room before its space exists.
func (p *Planner) offeredInSpace(room chat.RoomSpec) bool {
	if p.cfg.InvitePerRoom || room.Parent == "" {
		return false
	}
	switch room.JoinRule {
	case chat.JoinRulePublic:
		return true
	case chat.JoinRuleRestricted:
		return slices.Contains(room.AllowRoomIDs, room.Parent)
	default:
		return false
	}
}

// spaceJoinRule: the space room of a Department space is invite-only, because it
// is the list of the department's members that restricted rooms admit.
func spaceJoinRule(v collabv1.Visibility) chat.JoinRule {
	if v == collabv1.VisibilityOpen {
		return chat.JoinRulePublic
	}
	return chat.JoinRuleInvite
}

// roomJoinRule maps visibility: Open is public, Department is restricted to the
// members of the department's space and of the spaces the room is shared with,
// Private (and anything unknown) is invite-only.
func roomJoinRule(v collabv1.Visibility, shared []collabv1.SpaceReference, in chat.DesiredInput,
	spaceRoomID string) (chat.JoinRule, []string) {
	switch v {
	case collabv1.VisibilityOpen:
		return chat.JoinRulePublic, nil
	case collabv1.VisibilityDepartment, "":
		var allow []string
		if spaceRoomID != "" {
			allow = append(allow, spaceRoomID)
		}
		for _, s := range shared {
			if id := in.SharedSpaceIDs[s.Namespace+"/"+s.Name]; id != "" {
				allow = append(allow, id)
			}
		}
		return chat.JoinRuleRestricted, sortedUnique(allow)
	default:
		return chat.JoinRuleInvite, nil
	}
}

// postingLevel is the events_default of a room: the level needed to post.
func postingLevel(p collabv1.Posting, ownerLevel int) int {
	switch p {
	case collabv1.PostingModerators:
		return levelModerator
	case collabv1.PostingOwners:
		return ownerLevel
	default: // Everyone and Members differ by who may join, not by level.
		return levelMember
	}
}

// managedEvents are the event levels the operator keeps: the events that define
// a room (who may do what, who may join, what it is linked to, its canonical
// alias and the owner marker that proves it is the operator's) need the
// operator's own level; names, topics and pins belong to moderators.
var managedEvents = map[string]int{
	"m.room.name":               levelModerator,
	"m.room.topic":              levelModerator,
	"m.room.avatar":             levelModerator,
	"m.room.pinned_events":      levelModerator,
	"m.room.canonical_alias":    LevelOperator,
	"m.room.power_levels":       LevelOperator,
	"m.room.join_rules":         LevelOperator,
	"m.room.history_visibility": LevelOperator,
	"m.room.guest_access":       LevelOperator,
	"m.room.encryption":         LevelOperator,
	"m.room.server_acl":         LevelOperator,
	"m.room.tombstone":          LevelOperator,
	"m.space.child":             LevelOperator,
	"m.space.parent":            LevelOperator,
	chat.OwnerEventType:         LevelOperator,
}

// powerLevels builds a room's levels; posting is the level needed to send
// messages. Inviting, kicking, banning and redacting belong to moderators.
func powerLevels(users map[string]int, operator string, posting int) chat.PowerLevels {
	pl := chat.PowerLevels{
		Users:         map[string]int{},
		UsersDefault:  levelMember,
		EventsDefault: posting,
		StateDefault:  levelModerator,
		Invite:        levelModerator,
		Kick:          levelModerator,
		Ban:           levelModerator,
		Redact:        levelModerator,
		Events:        map[string]int{},
	}
	for u, l := range users {
		pl.Users[u] = l
	}
	if operator != "" {
		pl.Users[operator] = LevelOperator
	}
	for e, l := range managedEvents {
		pl.Events[e] = l
	}
	return pl
}
