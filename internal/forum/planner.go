package forum

import (
	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// Planner maps a CollaborationSpace onto a forum engine's groups and categories
// and decides, without any I/O, what must change in one. The rules are the
// engine's (which groups a space gets and how they are named, which privileges
// each is given, how a shared forum's objects show whose they are), so each
// engine has its own, handed out by its connector; the controllers give it only
// the engine-neutral facts below. Keeping it pure lets a pass over an unchanged
// forum plan nothing, hence write nothing.
type Planner interface {
	// DesiredForum is what a space should have on its forum. A space without
	// spec.forum wants nothing.
	DesiredForum(space *collabv1.CollaborationSpace, in DesiredInput) Desired
	// PlanGroup and PlanCategory return the actions that turn observed into
	// desired, in the order they must be applied, and what they found besides.
	// They plan nothing when both match in every field the operator manages.
	PlanGroup(desired GroupSpec, observed ObservedGroup, opts PlanOptions) ([]GroupAction, PlanReport)
	PlanCategory(desired DesiredCategory, observed ObservedCategory, opts PlanOptions) ([]CategoryAction, PlanReport)
	// Proven reports whether a group found in a shared forum carries the proof
	// DesiredForum wrote into desired (DesiredInput.Proof): it was made for the
	// space desired belongs to. A group without a desired proof proves nothing.
	Proven(desired GroupSpec, observed ObservedGroup) bool
	// LegacyGroupNames are the names earlier releases gave a space's groups in
	// a shared forum; IsLegacyGroupOf reports whether a group found under one
	// says it was made for exactly this space. That is no proof, so such a
	// group is only ever retired (DesiredInput.RetiredGroups), never adopted.
	LegacyGroupNames(space *collabv1.CollaborationSpace) []string
	IsLegacyGroupOf(space *collabv1.CollaborationSpace, observed ObservedGroup) bool
	// DepartmentCategoryName is the name of a space's own category in a shared
	// forum; IsDepartmentCategoryOf reports whether a category of that name is
	// the space's, whatever department it was named after.
	DepartmentCategoryName(space *collabv1.CollaborationSpace) string
	IsDepartmentCategoryOf(space *collabv1.CollaborationSpace, name string) bool
}

// DesiredInput is what DesiredForum needs besides the CollaborationSpace.
type DesiredInput struct {
	// ParentCategoryID is the category the space's categories live in: 0, the
	// root, in a forum deployed for the department; the department's own
	// category in a shared forum, once it exists.
	ParentCategoryID int64
	// Shared says the forum is a shared one (spec.forum.backendRef): the space
	// then gets a department category (Desired.Department) that holds its
	// categories, and names that carry its identity. Until the department
	// category's id is known (ParentCategoryID 0) no categories are returned,
	// so none is ever created at the shared forum's root.
	Shared bool
	// Proof, when set in a shared forum, signs what shows a group is the
	// space's own (see Planner.Proven): Client.Proof.
	Proof func(subject string) string
	// RetiredGroups lose every privilege in the space's categories: groups the
	// space made under the names of earlier releases (Planner.LegacyGroupNames)
	// that say they are its own (Planner.IsLegacyGroupOf).
	RetiredGroups []string
	// People are the people the space's Group members resolved to through its
	// directory, each with their highest role. They join the groups like User
	// members.
	People []Person
}

// Person is someone a Group member resolved to: their forum username and role.
type Person struct {
	Username string
	Role     collabv1.Role
}

// DesiredCategory is the desired state of a category with its privileges.
type DesiredCategory struct {
	Spec CategorySpec
	// Privileges of every group the plan manages. A group listed with no
	// privileges has every privilege taken away.
	Privileges Privileges
}

// Desired is what a space should have on its forum.
type Desired struct {
	// Groups, which the controller makes before the categories, whose
	// privileges name them.
	Groups []GroupSpec
	// Department is the space's own category in a shared forum; nil otherwise.
	Department *DesiredCategory
	// Categories in spec order.
	Categories []DesiredCategory
}

// PlanOptions tune how far a plan may go.
type PlanOptions struct {
	// Authoritative (member policy Authoritative) removes group members that are
	// not declared, and takes category privileges away from every group the
	// space does not name except the forum's administrators. When false
	// (Additive) people who joined a group, and groups given access by hand,
	// stay.
	Authoritative bool
	// OperatorUID is the operator's own account (Client.Ping), which a forum may
	// make a member of the groups it creates: never removed.
	OperatorUID int64
	// MayRemove, when set, is asked before each removal from a group: the
	// space's removal budget. A member it refuses stays, reported in
	// PlanReport.DeferredRemovals.
	MayRemove func(username string) bool
}

// PlanReport says what a plan found besides its actions.
type PlanReport struct {
	// Drift names the fields that differed, in a stable order: for a category
	// "name", "description", "parent", "disabled", "privileges"; for a group
	// "settings", "members".
	Drift []string
	// Notes explain differences the plan will not fix.
	Notes []string
	// DeferredRemovals are usernames that should leave a group but stay because
	// PlanOptions.MayRemove refused.
	DeferredRemovals []string
}
