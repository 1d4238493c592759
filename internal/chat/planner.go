package chat

import (
	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// Planner maps a CollaborationSpace onto an engine's rooms and decides, without
// any I/O, what must change in a room. The rules are the engine's (who holds
// which power, how people become user ids, what aliases look like), so each
// engine has its own, configured by its connector from the backend's engine
// section; the controllers hand it only the engine-neutral facts below. Keeping
// it pure lets a pass over an unchanged room plan nothing, hence write nothing.
type Planner interface {
	// Layout is the desired state of a space's rooms in the order the engine
	// needs them made.
	Layout(space *collabv1.CollaborationSpace, in DesiredInput) (Layout, error)
	// DesiredRooms is the desired state of a space's space room and of each of
	// its rooms, in spec order, as they are planned before the space room
	// exists: what the spec alone says of them (their names, aliases and
	// members), for checks that have no server.
	DesiredRooms(space *collabv1.CollaborationSpace, in DesiredInput) (RoomSpec, []RoomSpec, error)
	// Directory is a backend's organisation-wide space listing children (the
	// Open spaces' space rooms). Plan it with PruneChildren and without
	// Authoritative: it declares no members.
	Directory(backend string, dir collabv1.DirectorySpace, operator string, children []string) RoomSpec
	// Plan returns the actions that turn observed into desired, in the order
	// they must be applied, and what it found besides.
	Plan(desired RoomSpec, observed ObservedRoom, opts PlanOptions) ([]Action, PlanReport)
	// MapPeople splits people into those who have a user id on the engine and
	// the names of those who have none. It fails only when the engine's own
	// configuration is broken.
	MapPeople(people []Person) (mapped []Person, unmapped []string, err error)
	// LegacySpaceAlias and LegacyRoomAlias are the aliases earlier operator
	// versions gave a space's rooms, so they are found again and moved.
	LegacySpaceAlias(space string) string
	LegacyRoomAlias(space, room string) string
}

// DesiredInput is what DesiredRooms needs besides the CollaborationSpace: ids
// the controller has already resolved and the people its members stand for.
type DesiredInput struct {
	// OperatorUserID is the operator's account, which keeps the power to manage
	// every room it makes.
	OperatorUserID string
	// SharedSpaceIDs maps "namespace/name" of other CollaborationSpaces to their
	// space room ids. Spaces missing from it (not created yet) are left out of
	// allow lists until a later pass resolves them.
	SharedSpaceIDs map[string]string
	// People are the people the space's Group members resolved to through its
	// directory, each with their highest role, as MapPeople kept them.
	People []Person
}

// Layout is a space's rooms in the order the engine needs them made, so the
// pass that makes them knows no engine's shape. The space room comes first:
// found or created, but converged last, once it can list the rooms. The rooms
// are planned once its id is known (on Matrix, a Department room admits the
// members of its space, and links to it). Last, Listing is the space room as it
// lists the space's own rooms and those other departments share into it.
type Layout struct {
	SpaceRoom RoomSpec
	// Rooms is the desired state of each of the space's rooms, in spec order,
	// under the space room spaceRoomID.
	Rooms func(spaceRoomID string) ([]RoomSpec, error)
	// Listing is SpaceRoom listing rooms (the space's own, then those shared
	// into it: link) and no longer listing unlink.
	Listing func(rooms, link, unlink []string) RoomSpec
}

// Person is someone a Group member resolved to: Name is the directory's username.
type Person struct {
	Name string
	Role collabv1.Role
}

// PlanOptions tune how far a plan may go.
type PlanOptions struct {
	// Authoritative removes members and powers that are not declared. When false
	// (the Additive member policy) nobody is removed: people who joined on their
	// own, and powers granted by hand to undeclared users, stay.
	Authoritative bool
	// OperatorUserID is the operator's own account: never removed, never lowered.
	OperatorUserID string
	// MaxRemovals caps the users removed in one plan; the rest are reported in
	// PlanReport.DeferredRemovals for a later pass. 0 means no cap.
	MaxRemovals int
	// MayRemove, when set, is asked before each removal the plan would make: the
	// space's removal budget (per hour, across rooms and passes). A user it
	// refuses is reported in PlanReport.DeferredRemovals instead.
	MayRemove func(userID string) bool
	// PruneChildren removes the children of a space that desired.Children does
	// not list (when it is not nil). The member policy is about people, so it
	// does not decide this: the directory space prunes (a space that stops being
	// Open leaves it), a department space does not (rooms owners linked by hand
	// stay; rooms dropped from the spec leave through Archive or Delete).
	PruneChildren bool
	// LastOwnerGuard keeps the users with an owner's power that a plan would
	// otherwise lower or drop when none would be left besides the operator, so
	// a room always keeps a human owner.
	LastOwnerGuard bool
}

// PlanReport says what a plan found besides its actions.
type PlanReport struct {
	// Drift names the fields that differed, in a stable order: "name", "topic",
	// "joinRule", "powerLevels", "published", "worldReadable", "canonicalAlias", "parent",
	// "children", "members".
	Drift []string
	// DeferredRemovals are user ids that should be removed but were left for a
	// later pass because of PlanOptions.MaxRemovals or PlanOptions.MayRemove.
	DeferredRemovals []string
	// Notes explain differences the plan cannot fix, e.g. a user the engine does
	// not let the operator change.
	Notes []string
}
