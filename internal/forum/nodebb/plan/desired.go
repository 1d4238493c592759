// Package plan is the NodeBB engine's forum.Planner: it decides, without any
// I/O, what a department's NodeBB forum should hold (DesiredForum) and what must
// change in a category or group for it to match (PlanCategory, PlanGroup), with
// NodeBB's groups, privilege names and system groups. Keeping it pure makes every
// rule a table test and lets the controller prove that a pass over an unchanged
// forum plans nothing, hence writes nothing.
//
// # Role model in the forum
//
// Each space gets three NodeBB groups, named after a prefix (GroupPrefixFor):
// <prefix>-owners (members with role Owner), <prefix>-moderators (role
// Moderator) and <prefix>-members (every User member, whatever the role, so the
// group lists the whole department). Members of kind User reach the forum, and
// Group members through the people the directory resolved them to
// (forum.DesiredInput.People), each person in the groups of their highest role.
//
// # Names in a shared forum
//
// A shared forum (a ForumBackend) serves every namespace, and every namespace is
// a tenant that may be hostile. Names there carry the space's identity,
// <namespace>/<name>, so that no space can name, hence find, adopt or delete,
// another's objects:
//
//	groups             <name>-<digest>-owners, -moderators, -members, where
//	                   digest is 12 hex digits of sha256("<namespace>/<name>")
//	                   (Digest): group names stay short and readable, and the
//	                   namespace is not shown on every badge.
//	department parent  "<department> (<namespace>/<name>)"
//	                   (DepartmentCategoryName): the full identity, which ends
//	                   the name, so the suffix alone says whose it is
//	                   (IsDepartmentCategoryOf) and a department can be renamed.
//
// A category can only be made by a forum administrator (the operator), so a
// category found by that name is the space's own. A group may be made by forum
// users on some forums, and 48 bits of digest could be matched by a determined
// tenant, so a group found by name counts as the space's only with a proof
// (Proven): the description the operator writes ends with a tag, an HMAC of the
// space's identity and the group's name (ProofSubject) keyed by a secret only
// the operator holds (forum.Client.Proof), which no user or other space can
// compute for this space. The tag is public, so a user who may create groups can
// copy it onto a group of the same name once the space's is deleted: the
// controller therefore also requires the operator's account to own the group
// (forum.ObservedGroup.OwnedBy), which no user can arrange.
//
// A deployed forum runs in the space's own namespace for that space alone: no
// other tenant has objects there, so its groups keep the short names
// <name>-owners… and no proof.
//
// # Privileges of a category
//
// Privileges come in three bundles (NodeBB's names, without "groups:"):
//
//	view     find, read, topics:read, posts:history
//	post     topics:create, topics:reply, topics:crosspost, topics:tag, posts:edit,
//	         posts:delete, topics:delete, posts:upvote, posts:downvote
//	moderate moderate, posts:view_deleted, purge, topics:schedule
//
// Who gets which bundle:
//
//	view      the three space groups; registered-users too when the space is Open
//	post      by the category's posting:
//	          Everyone   registered-users (Open only) and the three space groups
//	          Members    the three space groups (also Everyone outside Open spaces,
//	                     since nobody else can read)
//	          Moderators <prefix>-moderators and <prefix>-owners
//	          Owners     <prefix>-owners
//	moderate  <prefix>-moderators and <prefix>-owners
//
// guests, spiders and fediverse get nothing, and registered-users nothing outside
// Open spaces: NodeBB grants them defaults on every new category, and the plan
// takes those away. Department and Private spaces project the same way, because
// NodeBB only knows the named accounts; they differ in chat, where Department
// rooms admit the department space's members and rooms shared with it.
// administrators and Global Moderators are never touched.
package plan

import (
	"fmt"
	"slices"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
)

// Privilege bundles; see the package documentation.
var (
	viewPrivileges = []string{
		forum.PrivFind, forum.PrivRead, forum.PrivTopicsRead, forum.PrivPostsHistory,
	}
	postPrivileges = []string{
		forum.PrivTopicsCreate, forum.PrivTopicsReply, forum.PrivTopicsCrosspost, forum.PrivTopicsTag,
		forum.PrivPostsEdit, forum.PrivPostsDelete, forum.PrivTopicsDelete,
		forum.PrivPostsUpvote, forum.PrivPostsDownvote,
	}
	moderatePrivileges = []string{
		forum.PrivModerate, forum.PrivPostsViewDeleted, forum.PrivPurge, forum.PrivTopicsSchedule,
	}
)

// publicGroups are NodeBB's groups of people outside the space. The plan always
// manages them: they get what visibility and posting allow, and otherwise
// nothing.
var publicGroups = []string{forum.GroupRegisteredUsers, forum.GroupGuests, forum.GroupSpiders, forum.GroupFediverse}

// DesiredForum maps a CollaborationSpace to its groups and categories. A space
// without spec.forum wants nothing.
func DesiredForum(space *collabv1.CollaborationSpace, in forum.DesiredInput) forum.Desired {
	return desiredForum(space, in, GroupPrefixFor(space, in.Shared))
}

// desiredForum is DesiredForum with the groups named after prefix.
func desiredForum(space *collabv1.CollaborationSpace, in forum.DesiredInput, prefix string) forum.Desired {
	if space.Spec.Forum == nil {
		return forum.Desired{}
	}
	names := NamesFor(prefix)
	out := forum.Desired{Groups: desiredGroups(space, names, in)}
	vis := space.Spec.Visibility
	if in.Shared {
		out.Department = &forum.DesiredCategory{
			Spec: forum.CategorySpec{
				Name:        DepartmentCategoryName(space),
				Description: space.Spec.Description,
			},
			Privileges: categoryPrivileges(vis, collabv1.PostingMembers, names, in.RetiredGroups),
		}
		if in.ParentCategoryID == 0 {
			return out
		}
	}
	for i, c := range space.Spec.Forum.Categories {
		out.Categories = append(out.Categories, forum.DesiredCategory{
			Spec: forum.CategorySpec{
				Name:        c.Name,
				Description: c.Description,
				ParentID:    in.ParentCategoryID,
				Order:       i + 1,
			},
			Privileges: categoryPrivileges(vis, c.Posting, names, in.RetiredGroups),
		})
	}
	return out
}

// desiredGroups lists the User members and resolved people of each role, each
// under their highest role; members holds them all. In a shared forum with a
// Proof, each description ends with its proof.
func desiredGroups(space *collabv1.CollaborationSpace, names GroupNames, in forum.DesiredInput) []forum.GroupSpec {
	roles := map[string]collabv1.Role{}
	add := func(name string, role collabv1.Role) { roles[name] = roles[name].Higher(role) }
	for _, m := range space.Spec.Members {
		if m.Kind == collabv1.SubjectUser {
			add(m.Name, m.Role)
		}
	}
	for _, p := range in.People {
		add(p.Username, p.Role)
	}
	var owners, moderators, members []string
	for name, role := range roles {
		members = append(members, name)
		switch role {
		case collabv1.RoleOwner:
			owners = append(owners, name)
		case collabv1.RoleModerator:
			moderators = append(moderators, name)
		}
	}
	describe := func(what, group string) string {
		d := fmt.Sprintf("%s of %s. %s", what, space.Spec.Department, keptBy(space))
		if in.Shared && in.Proof != nil {
			d += " " + proofTag(in.Proof(ProofSubject(space, group)))
		}
		return d
	}
	return []forum.GroupSpec{
		{Name: names.Owners, Description: describe("Owners", names.Owners), Members: forum.SortedSet(owners)},
		{Name: names.Moderators, Description: describe("Moderators", names.Moderators), Members: forum.SortedSet(moderators)},
		{Name: names.Members, Description: describe("Members", names.Members), Members: forum.SortedSet(members)},
	}
}

// categoryPrivileges applies the mapping of the package documentation; retired
// groups are listed with nothing.
func categoryPrivileges(vis collabv1.Visibility, posting collabv1.Posting, g GroupNames, retired []string) forum.Privileges {
	open := vis == collabv1.VisibilityOpen
	space := []string{g.Owners, g.Moderators, g.Members}
	readers := slices.Clone(space)
	if open {
		readers = append(readers, forum.GroupRegisteredUsers)
	}
	var posters []string
	switch posting {
	case collabv1.PostingEveryone:
		posters = readers
	case collabv1.PostingModerators:
		posters = []string{g.Owners, g.Moderators}
	case collabv1.PostingOwners:
		posters = []string{g.Owners}
	default: // Members, and unset (the API's default)
		posters = space
	}
	moderators := []string{g.Owners, g.Moderators}

	p := forum.Privileges{}
	for _, grp := range append(slices.Clone(publicGroups), retired...) {
		if !untouchable[grp] {
			p[grp] = nil
		}
	}
	grant := func(groups, privs []string) {
		for _, grp := range groups {
			p[grp] = append(p[grp], privs...)
		}
	}
	grant(readers, viewPrivileges)
	grant(posters, postPrivileges)
	grant(moderators, moderatePrivileges)
	for grp, privs := range p {
		if privs != nil {
			p[grp] = forum.SortedSet(privs)
		}
	}
	return p
}
