package forum

import "fmt"

// CategoryAction is one change to an existing category. A Planner plans them
// and a Client applies them in order with UpdateCategory; consecutive field
// changes (SetName, SetDescription, SetParent, SetDisabled) may travel in one
// request. The set is closed (the unexported method) so every Client handles
// every action.
type CategoryAction interface {
	// String says in a few words what the action changes, for events and logs.
	String() string
	isCategoryAction()
}

// SetName renames the category.
type SetName struct{ Name string }

// SetDescription changes the text under the category's name.
type SetDescription struct{ Description string }

// SetParent moves the category under another one (0: the root).
type SetParent struct{ ParentID int64 }

// SetDisabled disables or enables the category.
type SetDisabled struct{ Disabled bool }

// Grant gives a group a category privilege.
type Grant struct{ Group, Privilege string }

// Revoke takes a category privilege from a group.
type Revoke struct{ Group, Privilege string }

func (SetName) isCategoryAction()        {}
func (SetDescription) isCategoryAction() {}
func (SetParent) isCategoryAction()      {}
func (SetDisabled) isCategoryAction()    {}
func (Grant) isCategoryAction()          {}
func (Revoke) isCategoryAction()         {}

func (a SetName) String() string { return fmt.Sprintf("set name to %q", a.Name) }
func (a SetDescription) String() string {
	return fmt.Sprintf("set description to %q", a.Description)
}
func (a SetParent) String() string { return fmt.Sprintf("move under category %d", a.ParentID) }
func (a SetDisabled) String() string {
	if a.Disabled {
		return "disable"
	}
	return "enable"
}
func (a Grant) String() string  { return fmt.Sprintf("grant %s to group %q", a.Privilege, a.Group) }
func (a Revoke) String() string { return fmt.Sprintf("revoke %s from group %q", a.Privilege, a.Group) }

// GroupAction is one change to an existing group, applied with UpdateGroup.
type GroupAction interface {
	String() string
	isGroupAction()
}

// SetGroupSettings writes the group's description and closes it: private, join
// requests disabled. NodeBB rewrites the description on every group update, so
// the settings travel together.
type SetGroupSettings struct{ Description string }

// AddMember adds a user, by username, to the group. The Client resolves the
// username; a user without a forum account yields an error wrapping ErrNotFound.
type AddMember struct{ Username string }

// RemoveMember removes a user from the group.
type RemoveMember struct {
	UID      int64
	Username string
}

func (SetGroupSettings) isGroupAction() {}
func (AddMember) isGroupAction()        {}
func (RemoveMember) isGroupAction()     {}

func (a SetGroupSettings) String() string {
	return fmt.Sprintf("set description to %q, private, join requests disabled", a.Description)
}
func (a AddMember) String() string    { return "add member " + a.Username }
func (a RemoveMember) String() string { return "remove member " + a.Username }
