package memberphase

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/directory"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// TestARestartIsNoChangeAnyoneSees: a manager that restarts has read no
// directory yet. A space whose spec has not changed since its groups were
// resolved keeps its people and its MembersReady as they were, so a restart
// writes no status (at 10,000 spaces with a directory, 243 spaces flipped to
// DirectoryPending and back); nobody is removed until the directory answers.
// A space changed since waits for the directory, as before.
func TestARestartIsNoChangeAnyoneSees(t *testing.T) {
	resolved := func() (*collabv1.CollaborationSpace, *collabv1.MembersStatus) {
		space := bigSpace()
		space.Generation = 3
		st := &collabv1.MembersStatus{Directory: "org"}
		r := &Phase{Kit: &scope.Kit{Changes: &scope.PassChanges{}}, Directories: allStaff(40, false)}
		res := &scope.MemberResolution{People: map[string]collabv1.Role{}, Emails: map[string]string{}, Trusted: true}
		r.resolveGroups(res, space, st, nil, "org", groupRoles(space), nil)
		r.setMembersReady(&scope.Scope{Space: space, Members: res}, st)
		return space, st
	}
	cases := map[string]struct {
		edit           func(*collabv1.CollaborationSpace)
		wantReason     string
		wantSameStatus bool
	}{
		"the spec as it was resolved": {edit: func(*collabv1.CollaborationSpace) {}, wantReason: collabv1.ReasonResolved,
			wantSameStatus: true},
		"the spec changed since": {edit: func(s *collabv1.CollaborationSpace) { s.Generation++ },
			wantReason: collabv1.ReasonDirectoryPending},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			space, prev := resolved()
			before := meta.FindStatusCondition(space.Status.Conditions, collabv1.MembersReadyCondition).DeepCopy()
			tc.edit(space)

			restarted := &Phase{Kit: &scope.Kit{Changes: &scope.PassChanges{}}, Directories: directory.NewRegistry()}
			st := &collabv1.MembersStatus{Directory: "org"}
			res := &scope.MemberResolution{People: map[string]collabv1.Role{}, Emails: map[string]string{}, Trusted: true}
			restarted.resolveGroups(res, space, st, prev, "org", groupRoles(space), nil)
			restarted.setMembersReady(&scope.Scope{Space: space, Members: res}, st)

			got := meta.FindStatusCondition(space.Status.Conditions, collabv1.MembersReadyCondition)
			if got.Reason != tc.wantReason {
				t.Errorf("MembersReady %s %s (%s), want reason %s", got.Status, got.Reason, got.Message, tc.wantReason)
			}
			if tc.wantSameStatus {
				if diff := cmp.Diff(before, got); diff != "" {
					t.Errorf("MembersReady after the restart (-before +after):\n%s", diff)
				}
				if diff := cmp.Diff(prev, st); diff != "" {
					t.Errorf("status.members after the restart (-before +after):\n%s", diff)
				}
			}
			if res.Trusted {
				t.Error("the pass trusts people the directory has not confirmed since the restart: it could remove others")
			}
			if len(res.People) != 43 {
				t.Errorf("the pass keeps %d people, want the 43 resolved before the restart", len(res.People))
			}
		})
	}
}
