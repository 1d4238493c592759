package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
)

// People resolved from Group members join the groups of their highest role,
// whether that role came from a group or from a User member.
func TestDesiredGroupsWithPeople(t *testing.T) {
	cases := map[string]struct {
		people                     []forum.Person
		owners, moderators, member []string
	}{
		"no people: the User members": {
			owners: []string{"carol"}, moderators: []string{"alice"}, member: []string{"alice", "bob", "carol"},
		},
		"people join by role": {
			people: []forum.Person{{Username: "dave", Role: collabv1.RoleOwner}, {Username: "erin", Role: collabv1.RoleMember}},
			owners: []string{"carol", "dave"}, moderators: []string{"alice"},
			member: []string{"alice", "bob", "carol", "dave", "erin"},
		},
		"the highest role wins both ways": {
			people: []forum.Person{{Username: "bob", Role: collabv1.RoleModerator}, {Username: "carol", Role: collabv1.RoleMember}},
			owners: []string{"carol"}, moderators: []string{"alice", "bob"}, member: []string{"alice", "bob", "carol"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := DesiredForum(space(collabv1.VisibilityDepartment), forum.DesiredInput{People: tc.people}).Groups
			for i, want := range [][]string{tc.owners, tc.moderators, tc.member} {
				if diff := cmp.Diff(want, got[i].Members); diff != "" {
					t.Errorf("%s (-want +got):\n%s", got[i].Name, diff)
				}
			}
		})
	}
}
