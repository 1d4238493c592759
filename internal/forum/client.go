package forum

import "context"

// Client reads and changes categories and groups on one forum, as one
// administrator account. Every method takes a context and is idempotent, so a
// pass interrupted anywhere can simply run again: reads never write, creating
// something that exists adopts it, and removing something gone succeeds.
//
// The shape follows the controller's pass: for each object, Observe; Create when
// nothing was found; plan against what was observed (Planner); Update
// with the planned actions, none when nothing drifted. Create does not apply
// privileges or members: the returned object shows what the forum made (NodeBB
// gives a new category its default privileges), and the plan brings it to the
// desired state in the same pass.
type Client interface {
	// ObserveCategory reads a category and its privileges. It looks the category
	// up by id when id > 0 and, when that id does not exist (or id is 0), by
	// name among the children of parentID: that is how a category created by a
	// pass that crashed before recording its id is adopted. It returns (nil,
	// nil) when neither finds one. Disabled categories are found by id only.
	ObserveCategory(ctx context.Context, id, parentID int64, name string) (*ObservedCategory, error)

	// CreateCategory makes a category, unless one with the spec's name already
	// exists under the spec's parent, which it adopts. It returns the category
	// as the forum holds it afterwards.
	CreateCategory(ctx context.Context, spec CategorySpec) (*ObservedCategory, error)

	// UpdateCategory applies actions in order. An action that fails does not stop
	// the ones after it; the failures are returned joined. A category that does
	// not exist yields an error wrapping ErrNotFound.
	UpdateCategory(ctx context.Context, id int64, actions []CategoryAction) error

	// DisableCategory hides a category but keeps its topics: archiving. It makes
	// no write when the category is already disabled, and a category that no
	// longer exists counts as disabled.
	DisableCategory(ctx context.Context, id int64) error

	// DeleteCategory purges a category with its topics and posts. A category
	// that no longer exists counts as deleted.
	DeleteCategory(ctx context.Context, id int64) error

	// ObserveGroup reads a group and its members by name; (nil, nil) when there
	// is no such group.
	ObserveGroup(ctx context.Context, name string) (*ObservedGroup, error)

	// CreateGroup makes a closed group (private, join requests disabled) with
	// the spec's name and description; members are added by UpdateGroup. When
	// the name is taken it adopts that group, unless it is a system group
	// (ErrConflict). The forum makes the operator's account the first owner and
	// member of the groups it creates, and lists owners as such in
	// ObservedGroup.Members. Only the forum's administrators may make another
	// account a member of a group (an owner may only invite, and only a member
	// can be made an owner), so a group a user created is never owned by the
	// operator's account (ObservedGroup.OwnedBy): the contract suite checks
	// both on the forum itself.
	CreateGroup(ctx context.Context, spec GroupSpec) (*ObservedGroup, error)

	// UpdateGroup applies actions in order, like UpdateCategory. A group that does
	// not exist yields an error wrapping ErrNotFound.
	UpdateGroup(ctx context.Context, name string, actions []GroupAction) error

	// DeleteGroup deletes a group. A group that no longer exists counts as
	// deleted.
	DeleteGroup(ctx context.Context, name string) error

	// LookupUser returns the user id of a username; an error wrapping
	// ErrNotFound when the forum has no such user.
	LookupUser(ctx context.Context, username string) (int64, error)

	// LookupEmail returns the username of the account with that e-mail address,
	// for people whose forum username is not their directory name; an error
	// wrapping ErrNotFound when there is none. It needs an administrator.
	LookupEmail(ctx context.Context, email string) (string, error)

	// Ping checks the credentials and returns the account they act as; it doubles
	// as the ForumBackend's readiness check.
	Ping(ctx context.Context) (Self, error)

	// Version returns the forum software's version, e.g. "4.15.1".
	Version(ctx context.Context) (string, error)

	// Proof returns a tag of subject that only a holder of the client's
	// credentials can compute: an HMAC keyed by a secret derived from them. It
	// makes no request. The controller writes it into the description of the
	// groups it creates in a shared forum, whose users may be able to create
	// groups too, to recognise its own groups by name later.
	Proof(subject string) string
}
