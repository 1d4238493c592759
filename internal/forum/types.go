package forum

import (
	"maps"
	"slices"
)

// Category privileges, as NodeBB names them for a group without the "groups:"
// prefix (src/privileges/categories.js). Implementations add the prefix.
const (
	PrivFind             = "find"
	PrivRead             = "read"
	PrivTopicsRead       = "topics:read"
	PrivTopicsCreate     = "topics:create"
	PrivTopicsReply      = "topics:reply"
	PrivTopicsCrosspost  = "topics:crosspost"
	PrivTopicsSchedule   = "topics:schedule"
	PrivTopicsTag        = "topics:tag"
	PrivPostsEdit        = "posts:edit"
	PrivPostsHistory     = "posts:history"
	PrivPostsDelete      = "posts:delete"
	PrivPostsUpvote      = "posts:upvote"
	PrivPostsDownvote    = "posts:downvote"
	PrivTopicsDelete     = "topics:delete"
	PrivPostsViewDeleted = "posts:view_deleted"
	PrivPurge            = "purge"
	PrivModerate         = "moderate"
)

// CorePrivileges are the category privileges of NodeBB v4 core, in its order.
// Privileges that plugins add are never planned; topics:crosspost only exists
// in later v4 releases, which is why ObservedCategory carries KnownPrivileges.
var CorePrivileges = []string{
	PrivFind, PrivRead, PrivTopicsRead,
	PrivTopicsCreate, PrivTopicsReply, PrivTopicsCrosspost, PrivTopicsSchedule, PrivTopicsTag,
	PrivPostsEdit, PrivPostsHistory, PrivPostsDelete, PrivPostsUpvote, PrivPostsDownvote, PrivTopicsDelete,
	PrivPostsViewDeleted, PrivPurge, PrivModerate,
}

// Built-in NodeBB groups (src/groups/index.js).
const (
	// GroupRegisteredUsers holds every account: "everyone in the organisation".
	GroupRegisteredUsers = "registered-users"
	// GroupGuests, GroupSpiders and GroupFediverse are the ephemeral groups of
	// visitors who are not logged in, crawlers and ActivityPub peers.
	GroupGuests    = "guests"
	GroupSpiders   = "spiders"
	GroupFediverse = "fediverse"
	// GroupAdministrators and GroupGlobalModerators keep their access everywhere;
	// the operator never changes their privileges.
	GroupAdministrators   = "administrators"
	GroupGlobalModerators = "Global Moderators"
)

// Privileges maps a group name to the category privileges it holds, by the
// names above. Lists are sorted and without duplicates when built by this
// package's users; compare with Equal.
type Privileges map[string][]string

// Has reports whether group holds privilege.
func (p Privileges) Has(group, privilege string) bool {
	return slices.Contains(p[group], privilege)
}

// Groups returns the names of the groups that hold at least one privilege,
// sorted.
func (p Privileges) Groups() []string {
	var out []string
	for _, g := range slices.Sorted(maps.Keys(p)) {
		if len(p[g]) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// Equal compares two sets of privileges by meaning: order, duplicates and groups
// with an empty list do not matter.
func (p Privileges) Equal(q Privileges) bool {
	if !slices.Equal(p.Groups(), q.Groups()) {
		return false
	}
	for _, g := range p.Groups() {
		if !slices.Equal(SortedSet(p[g]), SortedSet(q[g])) {
			return false
		}
	}
	return true
}

// CategorySpec is the desired state of one category. Its privileges are planned
// separately (Planner.PlanCategory), because a new category starts with NodeBB's defaults
// and is brought to the desired ones by Update.
type CategorySpec struct {
	// Name shown in the forum. With ParentID it finds the category again.
	Name string
	// Description shown under the name.
	Description string
	// ParentID is the category it lives in; 0 for the forum's root.
	ParentID int64
	// Disabled hides the category from everyone but administrators; archiving
	// a space disables its categories.
	Disabled bool
	// Order places a new category among its siblings (1 is first); 0 lets the
	// forum choose. It is used when creating only: reordering by hand is kept.
	Order int
}

// ObservedCategory is a category as the forum holds it.
type ObservedCategory struct {
	ID          int64
	ParentID    int64
	Name        string
	Description string
	Disabled    bool
	// Privileges the groups listed by the forum hold in this category. The
	// forum always lists its built-in groups, with no privilege when they have
	// none; administrators are never listed.
	Privileges Privileges
	// KnownPrivileges are the category privileges the forum supports (core and
	// plugin ones). A plan never touches a privilege outside this list, so a
	// forum without, say, topics:crosspost is not asked for it on every pass.
	KnownPrivileges []string
}

// GroupSpec is the desired state of a group.
type GroupSpec struct {
	// Name of the group; NodeBB keeps names unique and derives the slug from it.
	Name string
	// Description shown on the group's page.
	Description string
	// Members are the usernames that should belong to the group.
	Members []string
}

// ObservedGroup is a group as the forum holds it.
type ObservedGroup struct {
	Name        string
	Slug        string
	Description string
	// Private groups need an owner's approval to join; JoinRequestsDisabled
	// refuses requests outright. The operator keeps both on so nobody can add
	// themselves to a group that grants access.
	Private              bool
	JoinRequestsDisabled bool
	Hidden               bool
	// System is set for NodeBB's own groups (administrators, registered-users…).
	System bool
	// Members of the group, sorted by username.
	Members []Member
}

// Member is a user in a group.
type Member struct {
	UID      int64
	Username string
	// Owner: the user may manage the group. The account that creates a group
	// becomes its first owner and member.
	Owner bool
}

// OwnedBy reports whether the account uid is one of the group's owners. The
// forum makes the account that creates a group its first owner, and only an
// administrator can make another account a member, hence an owner (see
// Client.CreateGroup): a group the operator's account owns was made by it or
// by an administrator, never by a user who copied its description.
func (g *ObservedGroup) OwnedBy(uid int64) bool {
	return uid > 0 && slices.ContainsFunc(g.Members, func(m Member) bool { return m.UID == uid && m.Owner })
}

// HasMember reports whether username belongs to the group.
func (g *ObservedGroup) HasMember(username string) bool {
	return slices.ContainsFunc(g.Members, func(m Member) bool { return m.Username == username })
}

// Self is the account a Client acts as.
type Self struct {
	UID      int64
	Username string
	// Admin: the account is a forum administrator, which the operator needs.
	Admin bool
}

// SortedSet returns s sorted without duplicates.
func SortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
