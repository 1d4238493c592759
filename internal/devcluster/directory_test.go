package devcluster

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestPeopleByRole: make dev's member table shows each person once, under the
// role their power level shows. frank owns operations directly and is also in
// its group operations: he is its Owner (level 90), not a Member.
func TestPeopleByRole(t *testing.T) {
	space := collabv1.CollaborationSpace{
		Spec: collabv1.CollaborationSpaceSpec{Members: []collabv1.Member{
			{Kind: collabv1.SubjectUser, Name: "frank", Role: collabv1.RoleOwner},
			{Kind: collabv1.SubjectGroup, Name: "operations"},
			{Kind: collabv1.SubjectUser, Name: "erin"},
		}},
		Status: collabv1.CollaborationSpaceStatus{Members: &collabv1.MembersStatus{Members: []string{"bob", "frank"}}},
	}
	want := []personInSpace{
		{name: "frank", role: collabv1.RoleOwner, via: "user+group"},
		{name: "bob", role: collabv1.RoleMember, via: "group"},
		{name: "erin", role: collabv1.RoleMember, via: "user"},
	}
	if diff := cmp.Diff(want, peopleByRole(space), cmp.AllowUnexported(personInSpace{})); diff != "" {
		t.Errorf("peopleByRole (-want +got):\n%s", diff)
	}
}
