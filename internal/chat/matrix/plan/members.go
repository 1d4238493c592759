package plan

import (
	"fmt"

	"github.com/opencommons/collab-operator/internal/chat"
)

// planMembers invites declared users who are not in the room and, when
// authoritative, removes joined or invited users who are not declared.
func planMembers(d chat.RoomSpec, o chat.ObservedRoom, opts options, r *chat.PlanReport) []chat.Action {
	actions := planInvites(d, o, opts, r)
	if opts.Authoritative {
		actions = append(actions, planKicks(d, o, opts, r)...)
	}
	return actions
}

// planInvites skips banned users (a moderator's decision wins) and users who left
// or declined on their own (so they are not pestered every poll); a user removed
// by someone else is invited again.
func planInvites(d chat.RoomSpec, o chat.ObservedRoom, opts options, r *chat.PlanReport) []chat.Action {
	var out []chat.Action
	for _, u := range sortedUnique(d.Invitations()) {
		switch m := o.Members[u]; {
		case u == opts.OperatorUserID, m == chat.MembershipJoin, m == chat.MembershipInvite:
		case m == chat.MembershipBan:
			r.Notes = append(r.Notes, fmt.Sprintf("%s is banned from the room and is not invited", u))
		case m == chat.MembershipLeave && o.Declined[u]:
			r.Notes = append(r.Notes, fmt.Sprintf("%s left or declined the invitation and is not invited again", u))
		default:
			out = append(out, chat.Invite{UserID: u})
		}
	}
	return out
}

// planKicks never removes the operator, the members of the spaces the room is
// shared with, or anyone whose level is not below the operator's (Matrix would
// refuse), stops at opts.MaxRemovals, asks opts.MayRemove
// before each removal, and removes nobody when nobody besides the operator is
// declared: a member list that resolved to no people (a directory that answered
// nothing) must never empty a room.
func planKicks(d chat.RoomSpec, o chat.ObservedRoom, opts options, r *chat.PlanReport) []chat.Action {
	declared := declaredUsers(d, opts.OperatorUserID)
	if len(declared) == 0 {
		if anyoneJoined(o, opts.OperatorUserID) {
			r.Notes = append(r.Notes, "no member is declared, so nobody is removed")
		}
		return nil
	}
	opLevel := max(o.PowerLevels.UserLevel(opts.OperatorUserID), LevelOperator)
	shared := map[string]bool{} // members of a sharing space belong here too
	for _, u := range d.SharedMembers {
		shared[u] = true
	}
	var out []chat.Action
	for _, u := range sortedKeys(o.Members) {
		if declared[u] || shared[u] || u == opts.OperatorUserID || !o.Joined(u) {
			continue
		}
		if level := o.PowerLevels.UserLevel(u); level >= opLevel {
			r.Notes = append(r.Notes, fmt.Sprintf("%s is not declared but stays: "+
				"their power level %d is not below the operator's", u, level))
			continue
		}
		if (opts.MaxRemovals > 0 && len(out) >= opts.MaxRemovals) || (opts.MayRemove != nil && !opts.MayRemove(u)) {
			r.DeferredRemovals = append(r.DeferredRemovals, u)
			continue
		}
		out = append(out, chat.Kick{UserID: u, Reason: "not a declared member of this space"})
	}
	return out
}

// declaredUsers are the users the spec invites, the operator aside.
func declaredUsers(d chat.RoomSpec, operator string) map[string]bool {
	declared := map[string]bool{}
	for _, u := range d.Invite {
		if u != operator {
			declared[u] = true
		}
	}
	return declared
}

// anyoneJoined reports whether someone besides the operator is joined or invited.
func anyoneJoined(o chat.ObservedRoom, operator string) bool {
	for u := range o.Members {
		if u != operator && o.Joined(u) {
			return true
		}
	}
	return false
}
