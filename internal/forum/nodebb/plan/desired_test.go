package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
)

// The bundles spelled out, so a change to the mapping shows up here.
var (
	tView = []string{"find", "posts:history", "read", "topics:read"}
	tPost = []string{"posts:delete", "posts:downvote", "posts:edit", "posts:upvote",
		"topics:create", "topics:crosspost", "topics:delete", "topics:reply", "topics:tag"}
	tMod = []string{"moderate", "posts:view_deleted", "purge", "topics:schedule"}
)

func union(sets ...[]string) []string {
	var out []string
	for _, s := range sets {
		out = append(out, s...)
	}
	return forum.SortedSet(out)
}

// privs builds the expected privileges of a space "eng": public groups get
// nothing unless listed in extra.
func privs(owners, moderators, members []string, extra forum.Privileges) forum.Privileges {
	p := forum.Privileges{
		"registered-users": nil, "guests": nil, "spiders": nil, "fediverse": nil,
		"eng-owners": owners, "eng-moderators": moderators, "eng-members": members,
	}
	for g, l := range extra {
		p[g] = l
	}
	return p
}

func space(vis collabv1.Visibility, cats ...collabv1.Category) *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Namespace: "dept-eng", Name: "eng"},
		Spec: collabv1.CollaborationSpaceSpec{
			Department:  "Engineering",
			Description: "Where engineering talks",
			Visibility:  vis,
			Members: []collabv1.Member{
				{Kind: collabv1.SubjectGroup, Name: "eng-leads", Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectUser, Name: "carol", Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectUser, Name: "alice", Role: collabv1.RoleModerator},
				{Kind: collabv1.SubjectUser, Name: "bob"},
				{Kind: collabv1.SubjectServiceAccount, Name: "bot", Role: collabv1.RoleMember},
			},
			Forum: &collabv1.ForumSpec{Categories: cats},
		},
	}
}

func wantGroups(prefix string) []forum.GroupSpec {
	d := func(what string) string {
		return what + " of Engineering. Kept by collab-operator for CollaborationSpace dept-eng/eng."
	}
	return []forum.GroupSpec{
		{Name: prefix + "-owners", Description: d("Owners"), Members: []string{"carol"}},
		{Name: prefix + "-moderators", Description: d("Moderators"), Members: []string{"alice"}},
		{Name: prefix + "-members", Description: d("Members"), Members: []string{"alice", "bob", "carol"}},
	}
}

func TestDesiredForum(t *testing.T) {
	rfcs := collabv1.Category{Name: "RFCs", Description: "Proposals", Posting: collabv1.PostingMembers}
	news := collabv1.Category{Name: "News", Posting: collabv1.PostingOwners}
	chat := collabv1.Category{Name: "Lounge", Posting: collabv1.PostingEveryone}
	review := collabv1.Category{Name: "Review", Posting: collabv1.PostingModerators}
	cat := func(name, desc string, parent int64, order int, p forum.Privileges) forum.DesiredCategory {
		return forum.DesiredCategory{Spec: forum.CategorySpec{Name: name, Description: desc, ParentID: parent, Order: order}, Privileges: p}
	}
	// Members posting, not Open: the space's groups only.
	membersPost := privs(union(tView, tPost, tMod), union(tView, tPost, tMod), union(tView, tPost), nil)

	cases := map[string]struct {
		space *collabv1.CollaborationSpace
		in    forum.DesiredInput
		// prefix, when set, names the groups instead of GroupPrefixFor.
		prefix string
		want   forum.Desired
	}{
		"no forum wanted": {
			space: func() *collabv1.CollaborationSpace { s := space(collabv1.VisibilityOpen); s.Spec.Forum = nil; return s }(),
			want:  forum.Desired{},
		},
		"department space: only its groups see and post": {
			space: space(collabv1.VisibilityDepartment, rfcs),
			want: forum.Desired{Groups: wantGroups("eng"), Categories: []forum.DesiredCategory{
				cat("RFCs", "Proposals", 0, 1, membersPost),
			}},
		},
		"private space projects like a department space": {
			space: space(collabv1.VisibilityPrivate, rfcs),
			want: forum.Desired{Groups: wantGroups("eng"), Categories: []forum.DesiredCategory{
				cat("RFCs", "Proposals", 0, 1, membersPost),
			}},
		},
		"unset visibility is Department": {
			space: space("", rfcs),
			want: forum.Desired{Groups: wantGroups("eng"), Categories: []forum.DesiredCategory{
				cat("RFCs", "Proposals", 0, 1, membersPost),
			}},
		},
		"open space: registered users read; posting per category": {
			space: space(collabv1.VisibilityOpen, rfcs, news, chat, review),
			want: forum.Desired{Groups: wantGroups("eng"), Categories: []forum.DesiredCategory{
				cat("RFCs", "Proposals", 0, 1, privs(union(tView, tPost, tMod), union(tView, tPost, tMod), union(tView, tPost),
					forum.Privileges{"registered-users": tView})),
				cat("News", "", 0, 2, privs(union(tView, tPost, tMod), union(tView, tMod), tView,
					forum.Privileges{"registered-users": tView})),
				cat("Lounge", "", 0, 3, privs(union(tView, tPost, tMod), union(tView, tPost, tMod), union(tView, tPost),
					forum.Privileges{"registered-users": union(tView, tPost)})),
				cat("Review", "", 0, 4, privs(union(tView, tPost, tMod), union(tView, tPost, tMod), tView,
					forum.Privileges{"registered-users": tView})),
			}},
		},
		"Everyone posting outside an Open space is the members": {
			space: space(collabv1.VisibilityDepartment, chat),
			want: forum.Desired{Groups: wantGroups("eng"), Categories: []forum.DesiredCategory{
				cat("Lounge", "", 0, 1, membersPost),
			}},
		},
		"unset posting is Members": {
			space: space(collabv1.VisibilityDepartment, collabv1.Category{Name: "RFCs"}),
			want: forum.Desired{Groups: wantGroups("eng"), Categories: []forum.DesiredCategory{
				cat("RFCs", "", 0, 1, membersPost),
			}},
		},
		"deployed forum under a given parent": {
			space: space(collabv1.VisibilityDepartment, rfcs),
			in:    forum.DesiredInput{ParentCategoryID: 7},
			want: forum.Desired{Groups: wantGroups("eng"), Categories: []forum.DesiredCategory{
				cat("RFCs", "Proposals", 7, 1, membersPost),
			}},
		},
		"shared forum before the department category exists: no categories yet": {
			space:  space(collabv1.VisibilityDepartment, rfcs),
			in:     forum.DesiredInput{Shared: true},
			prefix: "dept-eng-eng",
			want: forum.Desired{
				Groups: wantGroups("dept-eng-eng"),
				Department: &forum.DesiredCategory{
					Spec:       forum.CategorySpec{Name: "Engineering (dept-eng/eng)", Description: "Where engineering talks"},
					Privileges: renamePrivs(membersPost, "eng", "dept-eng-eng"),
				},
			},
		},
		"shared forum: names carry the space's identity, categories inside the department category": {
			space: space(collabv1.VisibilityDepartment, rfcs),
			in:    forum.DesiredInput{Shared: true, ParentCategoryID: 12},
			want: forum.Desired{
				Groups: wantGroups(sharedPrefix),
				Department: &forum.DesiredCategory{
					Spec:       forum.CategorySpec{Name: "Engineering (dept-eng/eng)", Description: "Where engineering talks"},
					Privileges: renamePrivs(membersPost, "eng", sharedPrefix),
				},
				Categories: []forum.DesiredCategory{cat("RFCs", "Proposals", 12, 1, renamePrivs(membersPost, "eng", sharedPrefix))},
			},
		},
		"shared forum with a proof: each description ends with its group's tag": {
			space: space(collabv1.VisibilityDepartment),
			in:    forum.DesiredInput{Shared: true, Proof: fakeProof},
			want: forum.Desired{
				Groups: withProofs(wantGroups(sharedPrefix)),
				Department: &forum.DesiredCategory{
					Spec:       forum.CategorySpec{Name: "Engineering (dept-eng/eng)", Description: "Where engineering talks"},
					Privileges: renamePrivs(membersPost, "eng", sharedPrefix),
				},
			},
		},
		"a deployed forum writes no proof": {
			space: space(collabv1.VisibilityDepartment, rfcs),
			in:    forum.DesiredInput{Proof: fakeProof},
			want: forum.Desired{Groups: wantGroups("eng"), Categories: []forum.DesiredCategory{
				cat("RFCs", "Proposals", 0, 1, membersPost),
			}},
		},
		"retired groups lose everything, administrators are never listed": {
			space: space(collabv1.VisibilityDepartment, rfcs),
			in:    forum.DesiredInput{Shared: true, ParentCategoryID: 12, RetiredGroups: []string{"eng-owners", "eng-members", "administrators"}},
			want: forum.Desired{
				Groups: wantGroups(sharedPrefix),
				Department: &forum.DesiredCategory{
					Spec:       forum.CategorySpec{Name: "Engineering (dept-eng/eng)", Description: "Where engineering talks"},
					Privileges: withRetired(renamePrivs(membersPost, "eng", sharedPrefix), "eng-owners", "eng-members"),
				},
				Categories: []forum.DesiredCategory{cat("RFCs", "Proposals", 12, 1,
					withRetired(renamePrivs(membersPost, "eng", sharedPrefix), "eng-owners", "eng-members"))},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := DesiredForum(tc.space, tc.in)
			if tc.prefix != "" {
				got = desiredForum(tc.space, tc.in, tc.prefix)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DesiredForum (-want +got):\n%s", diff)
			}
		})
	}
}

// sharedPrefix is the group prefix of dept-eng/eng in a shared forum: its name
// and 12 hex digits of sha256("dept-eng/eng"), pinned here so a change to the
// scheme shows.
const sharedPrefix = "eng-8b87731a6a5c"

// fakeProof stands in for forum.Client.Proof.
func fakeProof(subject string) string {
	return fmt.Sprintf("%x", len(subject)) + "-" + strings.ReplaceAll(subject, "\n", "|")
}

// withProofs appends to each group's description the tag fakeProof makes.
func withProofs(groups []forum.GroupSpec) []forum.GroupSpec {
	for i, g := range groups {
		subject := "collab-operator forum group v1\ndept-eng/eng\n" + g.Name
		groups[i].Description += " [collab-proof:" + fakeProof(subject) + "]"
	}
	return groups
}

// withRetired lists groups with no privileges besides p's.
func withRetired(p forum.Privileges, groups ...string) forum.Privileges {
	out := forum.Privileges{}
	for g, l := range p {
		out[g] = l
	}
	for _, g := range groups {
		out[g] = nil
	}
	return out
}

// renamePrivs moves the space groups of prefix from to prefix to.
func renamePrivs(p forum.Privileges, from, to string) forum.Privileges {
	out := forum.Privileges{}
	for g, l := range p {
		for _, suffix := range []string{"-owners", "-moderators", "-members"} {
			if g == from+suffix {
				g = to + suffix
			}
		}
		out[g] = l
	}
	return out
}

func TestDesiredForumPlansNothingForItself(t *testing.T) {
	// A category observed exactly as desired needs no action: the mapping and
	// the plan agree on every privilege.
	f := DesiredForum(space(collabv1.VisibilityOpen, collabv1.Category{Name: "RFCs"}), forum.DesiredInput{})
	c := f.Categories[0]
	obs := forum.ObservedCategory{ID: 3, Name: c.Spec.Name, Privileges: c.Privileges, KnownPrivileges: forum.CorePrivileges}
	if actions, r := PlanCategory(c, obs, forum.PlanOptions{Authoritative: true}); len(actions) != 0 || len(r.Drift) != 0 {
		t.Errorf("PlanCategory on its own desired state = %v, %+v; want nothing", actions, r)
	}
}
