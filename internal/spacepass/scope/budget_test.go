package scope

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
)

// TestOutsidersNeverUseUpADepartedColleaguesRemoval: under memberPolicy
// Authoritative every account in a room the space does not declare is removed,
// in the order of their names, each asking the hourly removal budget. Accounts
// the space does not list, however many and whatever they are called, must not
// take the removals of someone the space declared who left its groups: the
// removals of declared people that are due come first, and the others wait,
// without being held. The cap still counts every removal of the hour and holds
// back a mass departure of declared people, which is what a directory answering
// too little looks like.
func TestOutsidersNeverUseUpADepartedColleaguesRemoval(t *testing.T) {
	const capPerHour = 5
	outsiders := []string{"@aa1:x", "@aa2:x", "@aa3:x", "@aa4:x", "@aa5:x", "@aa6:x"}
	recent := func(accounts ...string) []collabv1.RemovalRecord {
		return []collabv1.RemovalRecord{{Time: metav1.NewTime(time.Now().Add(-10 * time.Minute)), Accounts: accounts}}
	}
	type result struct {
		Removed, Held []string
		Waiting       int
	}
	tests := map[string]struct {
		prev *collabv1.MembersStatus
		ask  []string // the accounts the planners ask about, in their order
		want result
	}{
		"outsiders first in the alphabet do not take a departed member's removal": {
			prev: &collabv1.MembersStatus{Members: []string{"zed"}},
			ask:  append(slices.Clone(outsiders), "@zed:x", "forum:zed"),
			want: result{Removed: []string{"@aa1:x", "@aa2:x", "@aa3:x", "@zed:x", "forum:zed"}, Waiting: 3},
		},
		"once the hour frees a slot, a held departure goes before outsiders": {
			prev: &collabv1.MembersStatus{Held: &collabv1.HeldRemovals{Count: 1, Accounts: []string{"@zed:x"}},
				Removals: recent(outsiders[:4]...)},
			ask:  []string{"@aa5:x", "@aa6:x", "@zed:x"},
			want: result{Removed: []string{"@zed:x"}, Waiting: 2},
		},
		"outsiders removed again within the hour cost nothing": {
			prev: &collabv1.MembersStatus{Members: []string{"zed"}, Removals: recent(outsiders[:3]...)},
			ask:  append(slices.Clone(outsiders[:3]), "@zed:x", "forum:zed"),
			want: result{Removed: []string{"@zed:x", "forum:zed"}},
		},
		"a mass departure of declared people is still capped": {
			prev: &collabv1.MembersStatus{Members: []string{"m1", "m2", "m3", "m4", "m5", "m6"}},
			ask:  []string{"@m1:x", "@m2:x", "@m3:x", "@m4:x", "@m5:x", "@m6:x"},
			want: result{Removed: []string{"@m1:x", "@m2:x", "@m3:x", "@m4:x", "@m5:x"}, Held: []string{"@m6:x"}},
		},
		"the removals of the hour count on the next pass": {
			prev: &collabv1.MembersStatus{Removals: recent("@m1:x", "@m2:x", "@m3:x", "@m4:x", "@m5:x"),
				Held: &collabv1.HeldRemovals{Count: 1, Accounts: []string{"@m6:x"}}},
			ask:  []string{"@m6:x"},
			want: result{Held: []string{"@m6:x"}},
		},
	}
	planner := plan.New(plan.Config{ServerName: "x"})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := NewBudget(capPerHour, &collabv1.CollaborationSpace{}, tc.prev, map[string]collabv1.Role{}, true)
			s := &Scope{Members: &MemberResolution{Budget: b}}
			mayRemove := s.MayRemoveChat(planner)
			for _, a := range tc.ask {
				if user, ok := strings.CutPrefix(a, "forum:"); ok {
					s.MayRemoveForum(user)
				} else {
					mayRemove(a)
				}
			}
			got := result{Removed: b.Removed, Held: b.Held, Waiting: b.OutsidersWaiting}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("removals (-want +got):\n%s", diff)
			}
		})
	}
}

// TestADepartureOutlivesAPassThatFailed: the people who left the space's groups
// are due for removal ahead of other accounts only while status still says they
// left. When the pass that saw them leave could not reach the chat server, the
// next pass resolves the same people again and sees no departure; unless the
// departure is kept, six colleagues who left count as outsiders: five go, the
// sixth waits unseen instead of being held for approval.
func TestADepartureOutlivesAPassThatFailed(t *testing.T) {
	const capPerHour = 5
	planner := plan.New(plan.Config{ServerName: "x"})
	left := []string{"m1", "m2", "m3", "m4", "m5", "m6"}

	// Pass 1: the six left the groups; the chat server does not answer.
	prev := &collabv1.MembersStatus{Members: append(slices.Clone(left), "stays")}
	now := map[string]collabv1.Role{"stays": collabv1.RoleMember}
	first := NewBudget(capPerHour, &collabv1.CollaborationSpace{}, prev, now, true)
	st := &collabv1.MembersStatus{Members: []string{"stays"}}
	st.Leaving = first.StillLeaving(false)
	if !slices.Equal(st.Leaving, left) {
		t.Fatalf("status after the failed pass lists %v as leaving, want %v", st.Leaving, left)
	}

	// Pass 2: the same people resolve; the chat server answers.
	second := NewBudget(capPerHour, &collabv1.CollaborationSpace{}, st, now, true)
	s := &Scope{Members: &MemberResolution{Budget: second}}
	mayRemove := s.MayRemoveChat(planner)
	for _, name := range left {
		mayRemove("@" + name + ":x")
	}
	if want := []string{"@m6:x"}; !slices.Equal(second.Held, want) {
		t.Errorf("held = %v, want %v: a colleague past the cap is held for approval", second.Held, want)
	}
	if got := second.StillLeaving(true); got != nil {
		t.Errorf("after a pass that reached every server, %v are still listed as leaving", got)
	}
}
