package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/opencommons/collab-operator/internal/forum"
)

// untouchable groups keep their privileges whatever the policy.
var untouchable = map[string]bool{
	forum.GroupAdministrators:   true,
	forum.GroupGlobalModerators: true,
}

// PlanCategory returns the actions that turn observed into desired and a report.
// It plans nothing when they match in every field the operator manages. Actions
// come in the order that never widens access before narrowing it: revocations,
// then field changes, then grants.
func PlanCategory(desired forum.DesiredCategory, observed forum.ObservedCategory, opts forum.PlanOptions) ([]forum.CategoryAction, forum.PlanReport) {
	var r forum.PlanReport
	revokes, grants := planPrivileges(desired.Privileges, observed, opts)
	fields := planFields(desired.Spec, observed, &r)

	var actions []forum.CategoryAction
	actions = append(actions, revokes...)
	actions = append(actions, fields...)
	actions = append(actions, grants...)
	if len(revokes)+len(grants) > 0 {
		r.Drift = append(r.Drift, "privileges")
	}
	return actions, r
}

func planFields(d forum.CategorySpec, o forum.ObservedCategory, r *forum.PlanReport) []forum.CategoryAction {
	var out []forum.CategoryAction
	if d.Name != o.Name {
		out = append(out, forum.SetName{Name: d.Name})
		r.Drift = append(r.Drift, "name")
	}
	if d.Description != o.Description {
		out = append(out, forum.SetDescription{Description: d.Description})
		r.Drift = append(r.Drift, "description")
	}
	if d.ParentID != o.ParentID {
		out = append(out, forum.SetParent{ParentID: d.ParentID})
		r.Drift = append(r.Drift, "parent")
	}
	if d.Disabled != o.Disabled {
		out = append(out, forum.SetDisabled{Disabled: d.Disabled})
		r.Drift = append(r.Drift, "disabled")
	}
	return out
}

// planPrivileges compares only privileges the forum supports and the core
// defines (plugin privileges are left alone), for the groups desired names and,
// when authoritative, every other group but the untouchable ones.
func planPrivileges(desired forum.Privileges, o forum.ObservedCategory, opts forum.PlanOptions) (revokes, grants []forum.CategoryAction) {
	known := forum.CorePrivileges
	if len(o.KnownPrivileges) > 0 {
		known = slices.DeleteFunc(slices.Clone(forum.CorePrivileges), func(p string) bool {
			return !slices.Contains(o.KnownPrivileges, p)
		})
	}
	managed := map[string]bool{}
	for g := range desired {
		managed[g] = true
	}
	if opts.Authoritative {
		for g := range o.Privileges {
			managed[g] = true
		}
	}
	for _, g := range slices.Sorted(maps.Keys(managed)) {
		if untouchable[g] {
			continue
		}
		for _, p := range known {
			want, have := desired.Has(g, p), o.Privileges.Has(g, p)
			switch {
			case want && !have:
				grants = append(grants, forum.Grant{Group: g, Privilege: p})
			case have && !want:
				revokes = append(revokes, forum.Revoke{Group: g, Privilege: p})
			}
		}
	}
	return revokes, grants
}

// PlanGroup returns the actions that turn observed into desired and a report.
func PlanGroup(desired forum.GroupSpec, observed forum.ObservedGroup, opts forum.PlanOptions) ([]forum.GroupAction, forum.PlanReport) {
	var r forum.PlanReport
	var actions []forum.GroupAction
	if observed.System {
		r.Notes = append(r.Notes, fmt.Sprintf("group %q is one of the forum's system groups and is not changed", observed.Name))
		return nil, r
	}
	if desired.Description != observed.Description || !observed.Private || !observed.JoinRequestsDisabled {
		actions = append(actions, forum.SetGroupSettings{Description: desired.Description})
		r.Drift = append(r.Drift, "settings")
	}
	n := len(actions)
	declared := map[string]bool{}
	for _, u := range forum.SortedSet(desired.Members) {
		declared[u] = true
		if !observed.HasMember(u) {
			actions = append(actions, forum.AddMember{Username: u})
		}
	}
	// A group whose declared members resolved to nobody (a directory that
	// answered nothing) is never emptied.
	if opts.Authoritative && len(declared) == 0 && len(observed.Members) > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("group %q declares no member, so nobody is removed", desired.Name))
	} else if opts.Authoritative {
		actions = append(actions, planGroupRemovals(observed, declared, opts, &r)...)
	}
	if len(actions) > n {
		r.Drift = append(r.Drift, "members")
	}
	return actions, r
}

// planGroupRemovals removes the group's members that are not declared, except
// the operator's own account; removals the budget does not allow are deferred
// in r.
func planGroupRemovals(observed forum.ObservedGroup, declared map[string]bool, opts forum.PlanOptions, r *forum.PlanReport) []forum.GroupAction {
	var actions []forum.GroupAction
	members := slices.Clone(observed.Members)
	slices.SortFunc(members, func(a, b forum.Member) int { return strings.Compare(a.Username, b.Username) })
	for _, m := range members {
		if declared[m.Username] || (opts.OperatorUID != 0 && m.UID == opts.OperatorUID) {
			continue
		}
		if opts.MayRemove != nil && !opts.MayRemove(m.Username) {
			r.DeferredRemovals = append(r.DeferredRemovals, m.Username)
			continue
		}
		actions = append(actions, forum.RemoveMember{UID: m.UID, Username: m.Username})
	}
	return actions
}
