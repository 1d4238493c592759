// Package chatplan decides, without any I/O, what must change in a chat room for it
// to match its desired state, and maps a CollaborationSpace to the desired rooms.
// Keeping it pure makes every rule a table test and lets the controller prove that
// a pass over an unchanged room plans nothing, hence writes nothing.
package chatplan

import (
	"github.com/opencommons/collab-operator/internal/chat"
)

// Options tune how far a plan may go.
type Options struct {
	// Authoritative removes members and power levels that are not declared. When
	// false (the Additive member policy) nobody is removed: people who joined on
	// their own, and levels granted by hand to undeclared users, stay.
	Authoritative bool
	// OperatorUserID is the operator's own account: never removed, never lowered.
	OperatorUserID string
	// MaxRemovals caps the users removed in one plan; the rest are reported in
	// Report.DeferredRemovals for a later pass. 0 means no cap.
	MaxRemovals int
	// MayRemove, when set, is asked before each removal the plan would make: the
	// space's removal budget (per hour, across rooms and passes). A user it
	// refuses is reported in Report.DeferredRemovals instead.
	MayRemove func(userID string) bool
	// PruneChildren removes the children of a space that desired.Children does
	// not list (when it is not nil). The member policy is about people, so it
	// does not decide this: the directory space prunes (a space that stops being
	// Open leaves it), a department space does not (rooms owners linked by hand
	// stay; rooms dropped from the spec leave through Archive or Delete).
	PruneChildren bool
	// OwnerLevel is the level of an Owner, for LastOwnerGuard; DefaultOwnerLevel
	// when 0.
	OwnerLevel int
	// LastOwnerGuard keeps, at their level, the users with an owner's power that a plan
	// would otherwise lower or drop when none would be left besides the operator,
	// so a room always keeps a human owner.
	LastOwnerGuard bool
}

// Report says what a plan found besides its actions.
type Report struct {
	// Drift names the fields that differed, in a stable order: "name", "topic",
	// "joinRule", "powerLevels", "published", "canonicalAlias", "parent",
	// "children", "members".
	Drift []string
	// DeferredRemovals are user ids that should be removed but were left for a later
	// pass because of Options.MaxRemovals or Options.MayRemove.
	DeferredRemovals []string
	// Notes explain differences the plan cannot fix, e.g. a user whose level equals
	// the operator's own, which Matrix does not let it change.
	Notes []string
}

func (o Options) ownerLevel() int {
	if o.OwnerLevel > 0 {
		return o.OwnerLevel
	}
	return DefaultOwnerLevel
}

func (r *Report) drift(field string) { r.Drift = append(r.Drift, field) }

// Plan returns the actions that turn observed into desired, in the order they must
// be applied, and a report. It plans nothing when the two already match in every
// field the operator manages.
func Plan(desired chat.RoomSpec, observed chat.ObservedRoom, opts Options) ([]chat.Action, Report) {
	var actions []chat.Action
	var report Report
	if desired.Space != observed.Space {
		report.Notes = append(report.Notes, "whether a room is a space is fixed when it is created: "+
			"archive or delete it to make it anew")
	}
	add := func(field string, a ...chat.Action) {
		if len(a) > 0 {
			actions = append(actions, a...)
			report.drift(field)
		}
	}
	add("name", planName(desired, observed)...)
	add("topic", planTopic(desired, observed)...)
	add("joinRule", planJoinRules(desired, observed)...)
	add("powerLevels", planPowerLevels(desired, observed, opts, &report)...)
	add("published", planPublished(desired, observed)...)
	add("canonicalAlias", planCanonicalAlias(desired, observed)...)
	add("parent", planParent(desired, observed)...)
	add("children", planChildren(desired, observed, opts)...)
	add("members", planMembers(desired, observed, opts, &report)...)
	return actions, report
}

func planName(d chat.RoomSpec, o chat.ObservedRoom) []chat.Action {
	if d.Name == o.Name {
		return nil
	}
	return []chat.Action{chat.SetName{Name: d.Name}}
}

func planTopic(d chat.RoomSpec, o chat.ObservedRoom) []chat.Action {
	if d.Topic == o.Topic {
		return nil
	}
	return []chat.Action{chat.SetTopic{Topic: d.Topic}}
}

// planJoinRules compares the allow list only for restricted rooms, where it means
// something.
func planJoinRules(d chat.RoomSpec, o chat.ObservedRoom) []chat.Action {
	same := d.JoinRule == o.JoinRule &&
		(d.JoinRule != chat.JoinRuleRestricted || chat.SameSet(d.AllowRoomIDs, o.AllowRoomIDs))
	if same {
		return nil
	}
	a := chat.SetJoinRules{JoinRule: d.JoinRule}
	if d.JoinRule == chat.JoinRuleRestricted {
		a.AllowRoomIDs = d.AllowRoomIDs
	}
	return []chat.Action{a}
}

// planCanonicalAlias publishes the spec's alias as the room's own, when the spec
// manages it.
func planCanonicalAlias(d chat.RoomSpec, o chat.ObservedRoom) []chat.Action {
	if d.CanonicalAlias == "" || d.CanonicalAlias == o.CanonicalAlias {
		return nil
	}
	return []chat.Action{chat.SetCanonicalAlias{Alias: d.CanonicalAlias}}
}

func planPublished(d chat.RoomSpec, o chat.ObservedRoom) []chat.Action {
	if d.Published == o.Published {
		return nil
	}
	return []chat.Action{chat.SetPublished{Published: d.Published}}
}

// planParent adds the desired parent; parents added by hand are left alone.
func planParent(d chat.RoomSpec, o chat.ObservedRoom) []chat.Action {
	if d.Parent == "" || o.Parents[d.Parent] {
		return nil
	}
	return []chat.Action{chat.SetParent{SpaceID: d.Parent}}
}

// planChildren adds missing children, and removes the others when asked to and
// the children are managed (non-nil).
func planChildren(d chat.RoomSpec, o chat.ObservedRoom, opts Options) []chat.Action {
	var out []chat.Action
	want := map[string]bool{}
	for _, id := range sortedUnique(d.Children) {
		want[id] = true
		if !o.Children[id] {
			out = append(out, chat.AddChild{RoomID: id})
		}
	}
	if !opts.PruneChildren || d.Children == nil {
		return out
	}
	for _, id := range sortedKeys(o.Children) {
		if o.Children[id] && !want[id] {
			out = append(out, chat.RemoveChild{RoomID: id})
		}
	}
	return out
}
