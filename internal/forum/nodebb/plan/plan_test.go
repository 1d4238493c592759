package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/opencommons/collab-operator/internal/forum"
)

// desiredCat is a small category: owners moderate, members read.
func desiredCat() forum.DesiredCategory {
	return forum.DesiredCategory{
		Spec: forum.CategorySpec{Name: "RFCs", Description: "Proposals", ParentID: 4, Order: 1},
		Privileges: forum.Privileges{
			"registered-users": nil, "guests": nil,
			"eng-owners":  {"find", "moderate", "read"},
			"eng-members": {"find", "read"},
		},
	}
}

// inSyncCat is what the forum holds for desiredCat when nothing drifted, with
// the untouchable groups and a group given access by hand.
func inSyncCat() forum.ObservedCategory {
	return forum.ObservedCategory{
		ID: 9, ParentID: 4, Name: "RFCs", Description: "Proposals",
		Privileges: forum.Privileges{
			"registered-users":  {},
			"guests":            nil,
			"Global Moderators": {"find", "moderate", "read"},
			"eng-owners":        {"read", "find", "moderate"},
			"eng-members":       {"find", "read"},
			"partners":          {"find"},
		},
		KnownPrivileges: forum.CorePrivileges,
	}
}

func TestPlanCategory(t *testing.T) {
	type want struct {
		actions []forum.CategoryAction
		drift   []string
	}
	cases := map[string]struct {
		desired  func(*forum.DesiredCategory)
		observed func(*forum.ObservedCategory)
		opts     forum.PlanOptions
		want     want
	}{
		"in sync: nothing to do (order and privilege order do not matter)": {},
		"renamed and described by hand": {
			observed: func(o *forum.ObservedCategory) { o.Name = "rfc"; o.Description = "" },
			want: want{[]forum.CategoryAction{
				forum.SetName{Name: "RFCs"}, forum.SetDescription{Description: "Proposals"},
			}, []string{"name", "description"}},
		},
		"moved and disabled by hand": {
			observed: func(o *forum.ObservedCategory) { o.ParentID = 0; o.Disabled = true },
			want: want{[]forum.CategoryAction{
				forum.SetParent{ParentID: 4}, forum.SetDisabled{Disabled: false},
			}, []string{"parent", "disabled"}},
		},
		"archiving: desired disabled": {
			desired: func(d *forum.DesiredCategory) { d.Spec.Disabled = true },
			want:    want{[]forum.CategoryAction{forum.SetDisabled{Disabled: true}}, []string{"disabled"}},
		},
		"new category with NodeBB's defaults: revocations come first, grants last": {
			observed: func(o *forum.ObservedCategory) {
				o.Name = "RFCs"
				o.Privileges = forum.Privileges{
					"registered-users": {"find", "read", "topics:create"},
					"guests":           {"find"},
					"spiders":          {"find"}, // not named by desired: left alone
					"eng-owners":       nil,
				}
			},
			want: want{[]forum.CategoryAction{
				forum.Revoke{Group: "guests", Privilege: "find"},
				forum.Revoke{Group: "registered-users", Privilege: "find"},
				forum.Revoke{Group: "registered-users", Privilege: "read"},
				forum.Revoke{Group: "registered-users", Privilege: "topics:create"},
				forum.Grant{Group: "eng-members", Privilege: "find"},
				forum.Grant{Group: "eng-members", Privilege: "read"},
				forum.Grant{Group: "eng-owners", Privilege: "find"},
				forum.Grant{Group: "eng-owners", Privilege: "read"},
				forum.Grant{Group: "eng-owners", Privilege: "moderate"},
			}, []string{"privileges"}},
		},
		"field changes sit between revocations and grants": {
			observed: func(o *forum.ObservedCategory) {
				o.Name = "x"
				o.Privileges["guests"] = []string{"read"}
				o.Privileges["eng-members"] = []string{"find"}
			},
			want: want{[]forum.CategoryAction{
				forum.Revoke{Group: "guests", Privilege: "read"},
				forum.SetName{Name: "RFCs"},
				forum.Grant{Group: "eng-members", Privilege: "read"},
			}, []string{"name", "privileges"}},
		},
		"privileges the forum does not know are never planned": {
			desired: func(d *forum.DesiredCategory) {
				d.Privileges["eng-members"] = []string{"find", "read", "topics:crosspost"}
			},
			observed: func(o *forum.ObservedCategory) {
				o.KnownPrivileges = []string{"find", "read", "moderate", "my-plugin:thing"}
			},
		},
		"plugin privileges are left alone even when authoritative": {
			observed: func(o *forum.ObservedCategory) {
				o.KnownPrivileges = append(o.KnownPrivileges, "my-plugin:thing")
				o.Privileges["eng-members"] = []string{"find", "read", "my-plugin:thing"}
			},
			opts: forum.PlanOptions{Authoritative: true},
			want: want{[]forum.CategoryAction{
				forum.Revoke{Group: "partners", Privilege: "find"},
			}, []string{"privileges"}},
		},
		"additive: a group given access by hand keeps it": {
			observed: func(o *forum.ObservedCategory) { o.Privileges["partners"] = []string{"find", "read", "topics:reply"} },
		},
		"authoritative: other groups lose access, administrators and Global Moderators never": {
			observed: func(o *forum.ObservedCategory) {
				o.Privileges["administrators"] = []string{"read"}
				o.Privileges["Global Moderators"] = []string{"read", "purge"}
			},
			opts: forum.PlanOptions{Authoritative: true},
			want: want{[]forum.CategoryAction{
				forum.Revoke{Group: "partners", Privilege: "find"},
			}, []string{"privileges"}},
		},
		"a group missing from the forum's list is granted": {
			observed: func(o *forum.ObservedCategory) { delete(o.Privileges, "eng-members") },
			want: want{[]forum.CategoryAction{
				forum.Grant{Group: "eng-members", Privilege: "find"},
				forum.Grant{Group: "eng-members", Privilege: "read"},
			}, []string{"privileges"}},
		},
		"no known list: the core privileges are compared": {
			observed: func(o *forum.ObservedCategory) {
				o.KnownPrivileges = nil
				o.Privileges["guests"] = []string{"topics:crosspost"}
			},
			want: want{[]forum.CategoryAction{
				forum.Revoke{Group: "guests", Privilege: "topics:crosspost"},
			}, []string{"privileges"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, o := desiredCat(), inSyncCat()
			if tc.desired != nil {
				tc.desired(&d)
			}
			if tc.observed != nil {
				tc.observed(&o)
			}
			actions, r := PlanCategory(d, o, tc.opts)
			if diff := cmp.Diff(tc.want.actions, actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want.drift, r.Drift); diff != "" {
				t.Errorf("drift (-want +got):\n%s", diff)
			}
		})
	}
}

const opUID = 1

func desiredGroup() forum.GroupSpec {
	return forum.GroupSpec{Name: "eng-members", Description: "Members of Engineering", Members: []string{"bob", "alice", "bob"}}
}

func inSyncGroup() forum.ObservedGroup {
	return forum.ObservedGroup{
		Name: "eng-members", Slug: "eng-members", Description: "Members of Engineering",
		Private: true, JoinRequestsDisabled: true,
		Members: []forum.Member{
			{UID: opUID, Username: "admin", Owner: true},
			{UID: 5, Username: "alice"},
			{UID: 6, Username: "bob"},
		},
	}
}

func TestPlanGroup(t *testing.T) {
	type want struct {
		actions  []forum.GroupAction
		drift    []string
		notes    []string
		deferred []string
	}
	cases := map[string]struct {
		desired  func(*forum.GroupSpec)
		observed func(*forum.ObservedGroup)
		opts     forum.PlanOptions
		want     want
	}{
		"in sync: nothing to do (the operator's own membership is fine)": {},
		"in sync and authoritative: the operator is never removed":       {opts: forum.PlanOptions{Authoritative: true, OperatorUID: opUID}},
		"description changed by hand": {
			observed: func(o *forum.ObservedGroup) { o.Description = "ours now" },
			want: want{actions: []forum.GroupAction{forum.SetGroupSettings{Description: "Members of Engineering"}},
				drift: []string{"settings"}},
		},
		"group opened by hand is closed again": {
			observed: func(o *forum.ObservedGroup) { o.Private = false },
			want: want{actions: []forum.GroupAction{forum.SetGroupSettings{Description: "Members of Engineering"}},
				drift: []string{"settings"}},
		},
		"join requests enabled by hand": {
			observed: func(o *forum.ObservedGroup) { o.JoinRequestsDisabled = false },
			want: want{actions: []forum.GroupAction{forum.SetGroupSettings{Description: "Members of Engineering"}},
				drift: []string{"settings"}},
		},
		"new member declared": {
			desired: func(d *forum.GroupSpec) { d.Members = append(d.Members, "carol", "aaron") },
			want: want{actions: []forum.GroupAction{forum.AddMember{Username: "aaron"}, forum.AddMember{Username: "carol"}},
				drift: []string{"members"}},
		},
		"additive: undeclared members stay": {
			observed: func(o *forum.ObservedGroup) { o.Members = append(o.Members, forum.Member{UID: 9, Username: "mallory"}) },
		},
		"authoritative: undeclared members leave, the operator stays": {
			desired: func(d *forum.GroupSpec) { d.Members = []string{"alice"} },
			observed: func(o *forum.ObservedGroup) {
				o.Members = append(o.Members, forum.Member{UID: 9, Username: "mallory"})
			},
			opts: forum.PlanOptions{Authoritative: true, OperatorUID: opUID},
			want: want{actions: []forum.GroupAction{
				forum.RemoveMember{UID: 6, Username: "bob"},
				forum.RemoveMember{UID: 9, Username: "mallory"},
			}, drift: []string{"members"}},
		},
		"settings and members drift together": {
			desired:  func(d *forum.GroupSpec) { d.Members = []string{"alice", "bob", "dave"} },
			observed: func(o *forum.ObservedGroup) { o.Description = "" },
			want: want{actions: []forum.GroupAction{
				forum.SetGroupSettings{Description: "Members of Engineering"},
				forum.AddMember{Username: "dave"},
			}, drift: []string{"settings", "members"}},
		},
		"authoritative: the removal budget is asked before each removal": {
			desired: func(d *forum.GroupSpec) { d.Members = []string{"alice"} },
			observed: func(o *forum.ObservedGroup) {
				o.Members = append(o.Members, forum.Member{UID: 9, Username: "mallory"})
			},
			opts: forum.PlanOptions{Authoritative: true, OperatorUID: opUID, MayRemove: func(u string) bool { return u == "mallory" }},
			want: want{actions: []forum.GroupAction{forum.RemoveMember{UID: 9, Username: "mallory"}},
				drift: []string{"members"}, deferred: []string{"bob"}},
		},
		"authoritative: a group that resolved to nobody is not emptied": {
			desired: func(d *forum.GroupSpec) { d.Members = nil },
			opts:    forum.PlanOptions{Authoritative: true, OperatorUID: opUID},
			want:    want{notes: []string{`group "eng-members" declares no member, so nobody is removed`}},
		},
		"a system group is never changed": {
			observed: func(o *forum.ObservedGroup) { o.System = true; o.Members = nil },
			want:     want{notes: []string{`group "eng-members" is one of the forum's system groups and is not changed`}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, o := desiredGroup(), inSyncGroup()
			if tc.desired != nil {
				tc.desired(&d)
			}
			if tc.observed != nil {
				tc.observed(&o)
			}
			actions, r := PlanGroup(d, o, tc.opts)
			if diff := cmp.Diff(tc.want.actions, actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want.drift, r.Drift); diff != "" {
				t.Errorf("drift (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want.notes, r.Notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want.deferred, r.DeferredRemovals); diff != "" {
				t.Errorf("deferred (-want +got):\n%s", diff)
			}
		})
	}
}
