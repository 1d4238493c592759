package plan

import (
	"fmt"
	"maps"

	"github.com/opencommons/collab-operator/internal/chat"
)

// planPowerLevels plans one SetPowerLevels carrying the whole merged content when
// any level the operator manages differs. Managed are the defaults, the event
// levels the spec names and the levels of declared users; undeclared users keep
// their level unless opts.Authoritative.
func planPowerLevels(d chat.RoomSpec, o chat.ObservedRoom, opts options, r *chat.PlanReport) []chat.Action {
	next, notes := mergePowerLevels(d.PowerLevels, o.PowerLevels, opts)
	r.Notes = append(r.Notes, notes...)
	// A field the event lacks is drift even when its default grants the same:
	// it was taken out (a redaction), and what is written is what is kept.
	if equivalent(next, o.PowerLevels) && len(o.PowerLevelsMissing) == 0 {
		return nil
	}
	return []chat.Action{chat.SetPowerLevels{PowerLevels: next}}
}

// mergePowerLevels lays the managed parts of desired over observed.
func mergePowerLevels(desired, observed chat.PowerLevels, opts options) (chat.PowerLevels, []string) {
	next := desired
	next.Events = maps.Clone(observed.Events)
	if next.Events == nil {
		next.Events = map[string]int{}
	}
	maps.Copy(next.Events, desired.Events)
	targets, notes := userTargets(desired, observed, opts)
	next.Users = map[string]int{}
	for u, level := range targets {
		if level != next.UsersDefault || u == opts.OperatorUserID {
			next.Users[u] = level
		}
	}
	return next, notes
}

// userTargets computes the level every user named on either side should end at.
// Matrix refuses to change a user whose level is at least the sender's, so such
// users keep theirs and a note says why.
func userTargets(desired, observed chat.PowerLevels, opts options) (map[string]int, []string) {
	opLevel := LevelOperator
	if opts.OperatorUserID != "" {
		opLevel = max(observed.UserLevel(opts.OperatorUserID), LevelOperator)
	}
	users := map[string]bool{}
	for u := range observed.Users {
		users[u] = true
	}
	for u := range desired.Users {
		users[u] = true
	}
	var notes []string
	targets := map[string]int{}
	for _, u := range sortedKeys(users) {
		cur := observed.UserLevel(u)
		t := target(u, cur, desired, opts)
		if t != cur && cur >= opLevel && u != opts.OperatorUserID {
			notes = append(notes, fmt.Sprintf("%s keeps power level %d instead of %d: "+
				"it is not below the operator's own level, which Matrix does not let the operator change", u, cur, t))
			t = cur
		}
		targets[u] = t
	}
	if opts.LastOwnerGuard {
		notes = append(notes, guardLastOwner(targets, observed, opts.OperatorUserID, opts.ownerLevel)...)
	}
	return targets, notes
}

// target is the level the spec asks for one user, before Matrix's limits.
// Under Additive an undeclared user keeps a level granted by hand below a
// Moderator's, but never a Moderator's or an Owner's: those carry the powers the
// role model grants (redact, kick, invite, state), so a removed Owner or
// Moderator is lowered whatever the member policy, as Authoritative lowers every
// undeclared user.
func target(u string, cur int, desired chat.PowerLevels, opts options) int {
	want, declared := desired.Users[u]
	switch {
	case u == opts.OperatorUserID && declared:
		return max(cur, want) // never lowered
	case declared:
		return want
	case u == opts.OperatorUserID:
		return cur
	case opts.Authoritative, cur >= levelModerator:
		return desired.UsersDefault
	default:
		return cur
	}
}

// guardLastOwner restores the observed owners when no owner besides the operator
// would be left.
func guardLastOwner(targets map[string]int, observed chat.PowerLevels, operator string, ownerLevel int) []string {
	for u, t := range targets {
		if u != operator && t >= ownerLevel {
			return nil
		}
	}
	var notes []string
	for _, u := range sortedKeys(observed.Users) {
		if cur := observed.Users[u]; u != operator && cur >= ownerLevel && targets[u] < cur {
			targets[u] = cur
			notes = append(notes, fmt.Sprintf("%s keeps power level %d: "+
				"the room would have no owner besides the operator", u, cur))
		}
	}
	return notes
}

// equivalent reports whether a and b grant the same powers. Events missing from a
// differ from any level b names, since their default depends on the event type.
func equivalent(a, b chat.PowerLevels) bool {
	if a.UsersDefault != b.UsersDefault || a.EventsDefault != b.EventsDefault ||
		a.StateDefault != b.StateDefault || a.Invite != b.Invite || a.Kick != b.Kick ||
		a.Ban != b.Ban || a.Redact != b.Redact || !maps.Equal(a.Events, b.Events) {
		return false
	}
	for u := range a.Users {
		if a.UserLevel(u) != b.UserLevel(u) {
			return false
		}
	}
	for u := range b.Users {
		if a.UserLevel(u) != b.UserLevel(u) {
			return false
		}
	}
	return true
}
