package memberphase

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/directory"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// allStaff is a directory with the group leads (3 owners) and all-staff
// (staff people), resolved in this process unless empty is set.
func allStaff(staff int, emptied bool) *directory.Registry {
	reg := directory.NewRegistry()
	leads := directory.Group{Found: true}
	for i := range 3 {
		leads.People = append(leads.People, directory.Person{Username: fmt.Sprintf("lead%d", i)})
	}
	all := directory.Group{Found: true}
	for i := range staff {
		if !emptied {
			all.People = append(all.People, directory.Person{Username: fmt.Sprintf("staff%05d", i)})
		}
	}
	reg.Store("org", map[string]directory.Group{"leads": leads, "all-staff": all})
	return reg
}

func bigSpace() *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Name: "eng", Namespace: "dept"},
		Spec: collabv1.CollaborationSpaceSpec{Members: []collabv1.Member{
			{Kind: collabv1.SubjectGroup, Name: "leads", Role: collabv1.RoleOwner},
			{Kind: collabv1.SubjectGroup, Name: "all-staff", Role: collabv1.RoleMember}}}}
}

// TestStatusNamesABoundedSampleOfAnyNumberOfPeople: one Group member of 30,000
// people (a whole organisation) must not push the space past the API server's
// object size limit (1.5 MB): status.members counts everyone and names at most
// maxListedPeople per role. Those lists are also what a restarted manager
// keeps until the directory answers; a sample is not everyone, so the removals
// it would make are not trusted.
func TestStatusNamesABoundedSampleOfAnyNumberOfPeople(t *testing.T) {
	r := &Phase{Kit: &scope.Kit{Changes: &scope.PassChanges{}}, Directories: allStaff(30000, false)}
	space := bigSpace()
	st := &collabv1.MembersStatus{Directory: "org"}
	res := &scope.MemberResolution{People: map[string]collabv1.Role{}, Emails: map[string]string{}, Trusted: true}
	r.resolveGroups(res, space, st, nil, "org", groupRoles(space), nil)

	if diff := cmp.Diff(&collabv1.MemberCounts{Owners: 3, Members: 30000}, st.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if len(st.Members) != scope.MaxListedPeople || st.Members[0] != "staff00000" {
		t.Errorf("status names %d members starting at %v, want the first %d by name", len(st.Members),
			st.Members[:1], scope.MaxListedPeople)
	}
	if len(res.People) != 30003 {
		t.Errorf("the pass projects %d people, want all 30003", len(res.People))
	}
	raw, _ := json.Marshal(st)
	if len(raw) > 64<<10 {
		t.Errorf("status.members is %d bytes, want it under 64 KiB at any size", len(raw))
	}

	tests := map[string]*directory.Registry{
		"a restarted manager before the directory answers": directory.NewRegistry(),
		"a group that comes back empty":                    allStaff(30000, true),
	}
	for name, reg := range tests {
		t.Run(name, func(t *testing.T) {
			r := &Phase{Kit: &scope.Kit{Changes: &scope.PassChanges{}}, Directories: reg}
			next := &collabv1.MembersStatus{Directory: "org"}
			res := &scope.MemberResolution{People: map[string]collabv1.Role{}, Emails: map[string]string{}, Trusted: true}
			r.resolveGroups(res, space, next, st, "org", groupRoles(space), nil)
			if res.Trusted {
				t.Errorf("the pass trusts %d people kept from a sample of %d: it would remove the rest",
					len(res.People), st.Counts.Members)
			}
			if !scope.CutShort(next) {
				t.Errorf("status after keeping the sample counts %+v for %d names: the next pass would trust it",
					next.Counts, len(next.Members))
			}
		})
	}
}
