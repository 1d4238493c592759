package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/opencommons/collab-operator/internal/chat"
)

const (
	op    = "@operator:x"
	alice = "@alice:x"
	bob   = "@bob:x"
	carol = "@carol:x"
	dave  = "@dave:x"
)

// levels is a room's power levels with the given users.
func levels(users map[string]int) chat.PowerLevels {
	return chat.PowerLevels{
		Users: users, UsersDefault: 0, EventsDefault: 0, StateDefault: 50,
		Invite: 50, Kick: 50, Ban: 50, Redact: 50, Events: map[string]int{"m.room.name": 50},
	}
}

// desiredRoom is a room whose owner is alice and member bob.
func desiredRoom() chat.RoomSpec {
	return chat.RoomSpec{
		AliasLocalpart: "eng-general", Name: "general", Topic: "talk",
		JoinRule: chat.JoinRuleRestricted, AllowRoomIDs: []string{"!space:x", "!mkt:x"},
		PowerLevels: levels(map[string]int{op: 100, alice: 100, bob: 0}),
		Invite:      []string{alice, bob}, Owner: "ns/eng", Parent: "!space:x",
	}
}

// inSync is what the server holds for desiredRoom when nothing drifted.
func inSync() chat.ObservedRoom {
	return chat.ObservedRoom{
		RoomID: "!r:x", Name: "general", Topic: "talk",
		JoinRule: chat.JoinRuleRestricted, AllowRoomIDs: []string{"!mkt:x", "!space:x"},
		PowerLevels: levels(map[string]int{op: 100, alice: 100}),
		Members:     map[string]chat.Membership{op: "join", alice: "join", bob: "invite"},
		Parents:     map[string]bool{"!space:x": true}, Owner: "ns/eng",
	}
}

func TestPlan(t *testing.T) {
	type want struct {
		actions []chat.Action
		report  chat.PlanReport
	}
	cases := map[string]struct {
		desired  func(*chat.RoomSpec)
		observed func(*chat.ObservedRoom)
		opts     chat.PlanOptions
		want     want
	}{
		"in sync: nothing to do (bob's 0 equals users_default)": {},
		"topic changed by hand": {
			observed: func(o *chat.ObservedRoom) { o.Topic = "lunch" },
			want:     want{[]chat.Action{chat.SetTopic{Topic: "talk"}}, chat.PlanReport{Drift: []string{"topic"}}},
		},
		"name and join rule changed": {
			observed: func(o *chat.ObservedRoom) { o.Name = "random"; o.JoinRule = chat.JoinRulePublic; o.AllowRoomIDs = nil },
			want: want{[]chat.Action{
				chat.SetName{Name: "general"},
				chat.SetJoinRules{JoinRule: chat.JoinRuleRestricted, AllowRoomIDs: []string{"!space:x", "!mkt:x"}},
			}, chat.PlanReport{Drift: []string{"name", "joinRule"}}},
		},
		"a room named by an earlier naming is renamed, and that is not drift": {
			desired: func(d *chat.RoomSpec) { d.Name = "Engineering · general"; d.PriorNames = []string{"general"} },
			want:    want{[]chat.Action{chat.SetName{Name: "Engineering · general"}}, chat.PlanReport{}},
		},
		"a room renamed by hand is drift even under a new naming": {
			desired:  func(d *chat.RoomSpec) { d.Name = "Engineering · general"; d.PriorNames = []string{"general"} },
			observed: func(o *chat.ObservedRoom) { o.Name = "party" },
			want:     want{[]chat.Action{chat.SetName{Name: "Engineering · general"}}, chat.PlanReport{Drift: []string{"name"}}},
		},
		"a room made before the directory was browsable is made world readable": {
			desired: func(d *chat.RoomSpec) { d.WorldReadable = true },
			want: want{[]chat.Action{chat.SetWorldReadable{WorldReadable: true}},
				chat.PlanReport{Drift: []string{"worldReadable"}}},
		},
		"a space that stops being Open keeps its history to its members again": {
			observed: func(o *chat.ObservedRoom) { o.WorldReadable = true },
			want: want{[]chat.Action{chat.SetWorldReadable{WorldReadable: false}},
				chat.PlanReport{Drift: []string{"worldReadable"}}},
		},
		"allow list lost a shared space": {
			observed: func(o *chat.ObservedRoom) { o.AllowRoomIDs = []string{"!space:x"} },
			want: want{[]chat.Action{
				chat.SetJoinRules{JoinRule: chat.JoinRuleRestricted, AllowRoomIDs: []string{"!space:x", "!mkt:x"}},
			}, chat.PlanReport{Drift: []string{"joinRule"}}},
		},
		"allow list is ignored for invite-only rooms": {
			desired:  func(d *chat.RoomSpec) { d.JoinRule = chat.JoinRuleInvite; d.AllowRoomIDs = nil },
			observed: func(o *chat.ObservedRoom) { o.JoinRule = chat.JoinRuleInvite },
		},
		"owner marker redacted: written again, first": {
			observed: func(o *chat.ObservedRoom) { o.Owner = ""; o.Topic = "lunch" },
			want: want{[]chat.Action{chat.SetOwner{Owner: "ns/eng"}, chat.SetTopic{Topic: "talk"}},
				chat.PlanReport{Drift: []string{"owner", "topic"}}},
		},
		"published by hand": {
			observed: func(o *chat.ObservedRoom) { o.Published = true },
			want:     want{[]chat.Action{chat.SetPublished{Published: false}}, chat.PlanReport{Drift: []string{"published"}}},
		},
		"parent missing; extra parents kept": {
			observed: func(o *chat.ObservedRoom) { o.Parents = map[string]bool{"!other:x": true} },
			want:     want{[]chat.Action{chat.SetParent{SpaceID: "!space:x"}}, chat.PlanReport{Drift: []string{"parent"}}},
		},
		"declared member never invited": {
			observed: func(o *chat.ObservedRoom) { delete(o.Members, bob) },
			want:     want{[]chat.Action{chat.Invite{UserID: bob}}, chat.PlanReport{Drift: []string{"members"}}},
		},
		"declared member kicked by someone is invited again": {
			observed: func(o *chat.ObservedRoom) { o.Members[bob] = chat.MembershipLeave },
			want:     want{[]chat.Action{chat.Invite{UserID: bob}}, chat.PlanReport{Drift: []string{"members"}}},
		},
		"declared member who left or declined is not pestered": {
			observed: func(o *chat.ObservedRoom) {
				o.Members[bob] = chat.MembershipLeave
				o.Declined = map[string]bool{bob: true}
			},
			want: want{report: chat.PlanReport{Notes: []string{"@bob:x left or declined the invitation and is not invited again"}}},
		},
		"banned declared member is not invited": {
			observed: func(o *chat.ObservedRoom) { o.Members[bob] = chat.MembershipBan },
			want:     want{report: chat.PlanReport{Notes: []string{"@bob:x is banned from the room and is not invited"}}},
		},
		"additive: people who joined on their own stay": {
			observed: func(o *chat.ObservedRoom) { o.Members[carol] = chat.MembershipJoin },
		},
		"authoritative: undeclared people are removed, capped by MaxRemovals": {
			observed: func(o *chat.ObservedRoom) {
				o.Members[carol] = chat.MembershipJoin
				o.Members[dave] = chat.MembershipInvite
				o.Members["@erin:x"] = chat.MembershipLeave
			},
			opts: chat.PlanOptions{Authoritative: true, OperatorUserID: op, MaxRemovals: 1},
			want: want{[]chat.Action{chat.Kick{UserID: carol, Reason: "not a declared member of this space"}},
				chat.PlanReport{Drift: []string{"members"}, DeferredRemovals: []string{dave}}},
		},
		"authoritative: the removal budget is asked before each removal": {
			observed: func(o *chat.ObservedRoom) {
				o.Members[carol] = chat.MembershipJoin
				o.Members[dave] = chat.MembershipJoin
			},
			opts: chat.PlanOptions{Authoritative: true, OperatorUserID: op, MayRemove: func(u string) bool { return u == dave }},
			want: want{[]chat.Action{chat.Kick{UserID: dave, Reason: "not a declared member of this space"}},
				chat.PlanReport{Drift: []string{"members"}, DeferredRemovals: []string{carol}}},
		},
		"authoritative: members of a space the room is shared with stay, and spend no removal budget": {
			desired: func(d *chat.RoomSpec) { d.SharedMembers = []string{carol} },
			observed: func(o *chat.ObservedRoom) {
				o.Members[carol] = chat.MembershipJoin
				o.Members[dave] = chat.MembershipJoin
			},
			// A budget that refuses carol would defer her if she were asked about.
			opts: chat.PlanOptions{Authoritative: true, OperatorUserID: op, MayRemove: func(u string) bool { return u != carol }},
			want: want{[]chat.Action{chat.Kick{UserID: dave, Reason: "not a declared member of this space"}},
				chat.PlanReport{Drift: []string{"members"}}},
		},
		"authoritative: a member list that resolved to nobody removes nobody": {
			desired: func(d *chat.RoomSpec) { d.Invite = []string{op} },
			observed: func(o *chat.ObservedRoom) {
				o.Members[carol] = chat.MembershipJoin
			},
			opts: chat.PlanOptions{Authoritative: true, OperatorUserID: op, MayRemove: func(string) bool { return true }},
			want: want{report: chat.PlanReport{Notes: []string{"no member is declared, so nobody is removed"}}},
		},
		"authoritative: users at the operator's level are not removed": {
			observed: func(o *chat.ObservedRoom) {
				o.Members[carol] = chat.MembershipJoin
				o.PowerLevels.Users[carol] = 100
			},
			opts: chat.PlanOptions{Authoritative: true, OperatorUserID: op},
			want: want{report: chat.PlanReport{Notes: []string{
				"@carol:x keeps power level 100 instead of 0: it is not below the operator's own level, which Matrix does not let the operator change",
				"@carol:x is not declared but stays: their power level 100 is not below the operator's",
			}}},
		},
		"the operator is never removed even if undeclared": {
			desired:  func(d *chat.RoomSpec) { delete(d.PowerLevels.Users, op) },
			observed: func(o *chat.ObservedRoom) {},
			opts:     chat.PlanOptions{Authoritative: true, OperatorUserID: op},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, o := desiredRoom(), inSync()
			if tc.desired != nil {
				tc.desired(&d)
			}
			if tc.observed != nil {
				tc.observed(&o)
			}
			if tc.opts.OperatorUserID == "" {
				tc.opts.OperatorUserID = op
			}
			actions, report := New(Config{}).Plan(d, o, tc.opts)
			if diff := cmp.Diff(tc.want.actions, actions, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want.report, report, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanChildren(t *testing.T) {
	cases := map[string]struct {
		desired  []string
		unlink   []string
		observed map[string]bool
		opts     chat.PlanOptions
		want     []chat.Action
	}{
		"missing children added in order": {
			desired: []string{"!b:x", "!a:x"}, observed: map[string]bool{},
			want: []chat.Action{chat.AddChild{RoomID: "!a:x"}, chat.AddChild{RoomID: "!b:x"}},
		},
		"children linked by hand stay, even when authoritative about people": {
			desired: []string{"!a:x"}, observed: map[string]bool{"!a:x": true, "!hand:x": true},
			opts: chat.PlanOptions{Authoritative: true},
		},
		"pruning: undeclared children removed": {
			desired: []string{"!a:x"}, observed: map[string]bool{"!a:x": true, "!hand:x": true},
			opts: chat.PlanOptions{PruneChildren: true},
			want: []chat.Action{chat.RemoveChild{RoomID: "!hand:x"}},
		},
		"a room no longer shared is unlinked, one linked by hand stays": {
			desired: []string{"!a:x"}, unlink: []string{"!was-shared:x", "!never-linked:x"},
			observed: map[string]bool{"!a:x": true, "!hand:x": true, "!was-shared:x": true},
			want:     []chat.Action{chat.RemoveChild{RoomID: "!was-shared:x"}},
		},
		"a room both shared and in unlink stays linked": {
			desired: []string{"!a:x"}, unlink: []string{"!a:x"}, observed: map[string]bool{"!a:x": true},
		},
		"pruning but unmanaged (nil): nothing removed": {
			desired: nil, observed: map[string]bool{"!hand:x": true},
			opts: chat.PlanOptions{PruneChildren: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := chat.RoomSpec{Space: true, Children: tc.desired, Unlink: tc.unlink}
			o := chat.ObservedRoom{Space: true, Children: tc.observed}
			actions, _ := New(Config{}).Plan(d, o, tc.opts)
			if diff := cmp.Diff(tc.want, actions, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}
