package chatplan

import (
	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

// Power levels of the role model (DESIGN.md): Owner 100, Moderator 50, Member 0.
const (
	levelOwner     = 100
	levelModerator = 50
	levelMember    = 0
)

// DesiredInput is what DesiredRooms needs besides the CollaborationSpace: facts
// about the chat server and ids the controller has already resolved.
type DesiredInput struct {
	// ServerName of the homeserver, the part after the colon in ids.
	ServerName string
	// UserIDTemplate maps a member to a Matrix user id; "@{{.Name}}:<ServerName>"
	// when empty. See UserID.
	UserIDTemplate string
	// OperatorUserID is the operator's account, given power 100 everywhere.
	OperatorUserID string
	// SharedSpaceIDs maps "namespace/name" of other CollaborationSpaces to their
	// space room ids. Spaces missing from it (not created yet) are left out of
	// allow lists until a later pass resolves them.
	SharedSpaceIDs map[string]string
	// DeptSpaceID is the id of this space's own space room, once it exists. Rooms
	// of a Department space only admit its members when it is set, so the
	// controller creates the space room first.
	DeptSpaceID string
}

// DesiredRooms maps a CollaborationSpace to the desired state of its space room and
// of each of its rooms, in spec order.
//
// Only members of kind User reach chat: Group and ServiceAccount members have no
// Matrix projection, because Matrix has no groups and a Kubernetes group's members
// cannot be listed. They still get RBAC and forum permissions. Children of the
// space room are left nil (unmanaged): the controller sets them to the room ids
// once the rooms exist.
func DesiredRooms(space *collabv1.CollaborationSpace, in DesiredInput) (chat.RoomSpec, []chat.RoomSpec, error) {
	users, err := memberLevels(space.Spec.Members, in)
	if err != nil {
		return chat.RoomSpec{}, nil, err
	}
	owner := space.Namespace + "/" + space.Name
	invite := sortedKeys(users)
	spaceRoom := chat.RoomSpec{
		AliasLocalpart: space.Name,
		Name:           space.Spec.Department,
		Topic:          space.Spec.Description,
		Space:          true,
		JoinRule:       spaceJoinRule(space.Spec.Visibility),
		Published:      space.Spec.Visibility == collabv1.VisibilityOpen,
		PowerLevels:    powerLevels(users, in.OperatorUserID, levelOwner),
		Invite:         invite,
		Owner:          owner,
	}
	var rooms []chat.RoomSpec
	if space.Spec.Chat != nil {
		for _, r := range space.Spec.Chat.Rooms {
			room := chat.RoomSpec{
				AliasLocalpart: space.Name + "-" + r.Name,
				Name:           r.Name,
				Topic:          r.Topic,
				Published:      space.Spec.Visibility == collabv1.VisibilityOpen,
				PowerLevels:    powerLevels(users, in.OperatorUserID, postingLevel(r.Posting)),
				Invite:         invite,
				Owner:          owner,
				Parent:         in.DeptSpaceID,
			}
			room.JoinRule, room.AllowRoomIDs = roomJoinRule(space.Spec.Visibility, r.SharedWith, in)
			rooms = append(rooms, room)
		}
	}
	return spaceRoom, rooms, nil
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
func roomJoinRule(v collabv1.Visibility, shared []collabv1.SpaceReference, in DesiredInput) (chat.JoinRule, []string) {
	switch v {
	case collabv1.VisibilityOpen:
		return chat.JoinRulePublic, nil
	case collabv1.VisibilityDepartment, "":
		var allow []string
		if in.DeptSpaceID != "" {
			allow = append(allow, in.DeptSpaceID)
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
func postingLevel(p collabv1.Posting) int {
	switch p {
	case collabv1.PostingModerators:
		return levelModerator
	case collabv1.PostingOwners:
		return levelOwner
	default: // Everyone and Members differ by who may join, not by level.
		return levelMember
	}
}

// managedEvents are the event levels the operator keeps: structure and identity
// of a room belong to owners and the operator, names and topics to moderators.
var managedEvents = map[string]int{
	"m.room.name":               levelModerator,
	"m.room.topic":              levelModerator,
	"m.room.avatar":             levelModerator,
	"m.room.canonical_alias":    levelModerator,
	"m.room.pinned_events":      levelModerator,
	"m.room.power_levels":       levelOwner,
	"m.room.join_rules":         levelOwner,
	"m.room.history_visibility": levelOwner,
	"m.room.encryption":         levelOwner,
	"m.room.server_acl":         levelOwner,
	"m.room.tombstone":          levelOwner,
	"m.space.child":             levelOwner,
	"m.space.parent":            levelOwner,
	chat.OwnerEventType:         levelOwner,
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
		pl.Users[operator] = levelOwner
	}
	for e, l := range managedEvents {
		pl.Events[e] = l
	}
	return pl
}
