// Package plan is the Matrix engine's chat.Planner: it maps a CollaborationSpace
// onto Matrix rooms (power levels, the m.room.* event levels, @user:server ids,
// #namespace.space.room aliases) and decides, without any I/O, what must change
// in a room for it to match. Keeping it pure makes every rule a table test and
// lets the controller prove that a pass over an unchanged room plans nothing,
// hence writes nothing.
package plan

import (
	"slices"

	"github.com/opencommons/collab-operator/internal/chat"
)

// Config is the engine's side of a ChatBackend's matrix section, which the
// connector reads.
type Config struct {
	// ServerName of the homeserver, the part after the colon in ids.
	ServerName string
	// UserIDTemplate maps a member to a Matrix user id; "@{{.Name}}:<ServerName>"
	// when empty. See UserID.
	UserIDTemplate string
	// OwnerLevel is the power level of an Owner; DefaultOwnerLevel when 0.
	OwnerLevel int
	// RoomNameTemplate names rooms in clients; DefaultRoomNameTemplate when
	// empty. See roomNames.
	RoomNameTemplate string
	// InvitePerRoom invites members to each room as well as to the space;
	// otherwise rooms members may join from the space are offered there.
	InvitePerRoom bool
}

// Planner plans Matrix rooms for one homeserver.
type Planner struct{ cfg Config }

var _ chat.Planner = (*Planner)(nil)

// New returns the planner for a homeserver. A broken UserIDTemplate is reported
// by the calls that render user ids, so it stalls the spaces that use it.
func New(cfg Config) *Planner { return &Planner{cfg: cfg} }

func (p *Planner) ownerLevel() int {
	if p.cfg.OwnerLevel > 0 {
		return p.cfg.OwnerLevel
	}
	return DefaultOwnerLevel
}

// options are the controller's options with the engine's Owner level, which
// the last owner guard needs.
type options struct {
	chat.PlanOptions
	ownerLevel int
}

// Plan implements chat.Planner. It plans nothing when observed already matches
// desired in every field the operator manages.
func (p *Planner) Plan(desired chat.RoomSpec, observed chat.ObservedRoom, opts chat.PlanOptions) ([]chat.Action, chat.PlanReport) {
	return plan(desired, observed, options{PlanOptions: opts, ownerLevel: p.ownerLevel()})
}

// plan returns the actions that turn observed into desired, in the order they must
// be applied, and a report.
func plan(desired chat.RoomSpec, observed chat.ObservedRoom, opts options) ([]chat.Action, chat.PlanReport) {
	var actions []chat.Action
	var report chat.PlanReport
	if desired.Space != observed.Space {
		report.Notes = append(report.Notes, "whether a room is a space is fixed when it is created: "+
			"archive or delete it to make it anew")
	}
	add := func(field string, a ...chat.Action) {
		if len(a) > 0 {
			actions = append(actions, a...)
			report.Drift = append(report.Drift, field)
		}
	}
	add("owner", planOwner(desired, observed)...)
	if a := planName(desired, observed); len(a) > 0 && slices.Contains(desired.PriorNames, observed.Name) {
		actions = append(actions, a...) // a new naming, not a change by hand
	} else {
		add("name", a...)
	}
	add("topic", planTopic(desired, observed)...)
	add("joinRule", planJoinRules(desired, observed)...)
	add("powerLevels", planPowerLevels(desired, observed, opts, &report)...)
	add("published", planPublished(desired, observed)...)
	add("worldReadable", planWorldReadable(desired, observed)...)
	add("canonicalAlias", planCanonicalAlias(desired, observed)...)
	add("parent", planParent(desired, observed)...)
	add("children", planChildren(desired, observed, opts)...)
	add("members", planMembers(desired, observed, opts, &report)...)
	return actions, report
}

// planOwner writes the owner marker again when it no longer names the space:
// the room was proven this space's by other means (chat.Locate), e.g. after a
// Moderator redacted the marker. It goes first, so the proof is back before
// anything else is written.
func planOwner(d chat.RoomSpec, o chat.ObservedRoom) []chat.Action {
	if d.Owner == "" || d.Owner == o.Owner {
		return nil
	}
	return []chat.Action{chat.SetOwner{Owner: d.Owner}}
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

// planWorldReadable lets anyone browse the rooms meant to be browsed (the
// directory and Open spaces' space rooms) and keeps every other room's
// history to its members.
func planWorldReadable(d chat.RoomSpec, o chat.ObservedRoom) []chat.Action {
	if d.WorldReadable == o.WorldReadable {
		return nil
	}
	return []chat.Action{chat.SetWorldReadable{WorldReadable: d.WorldReadable}}
}

// planParent adds the desired parent; parents added by hand are left alone.
func planParent(d chat.RoomSpec, o chat.ObservedRoom) []chat.Action {
	if d.Parent == "" || o.Parents[d.Parent] {
		return nil
	}
	return []chat.Action{chat.SetParent{SpaceID: d.Parent}}
}

// planChildren adds missing children, removes those listed in Unlink, and
// removes the others when asked to and the children are managed (non-nil).
func planChildren(d chat.RoomSpec, o chat.ObservedRoom, opts options) []chat.Action {
	var out []chat.Action
	want := map[string]bool{}
	for _, id := range sortedUnique(d.Children) {
		want[id] = true
		if !o.Children[id] {
			out = append(out, chat.AddChild{RoomID: id})
		}
	}
	unlink := map[string]bool{}
	for _, id := range d.Unlink {
		unlink[id] = true
	}
	prune := opts.PruneChildren && d.Children != nil
	for _, id := range sortedKeys(o.Children) {
		if o.Children[id] && !want[id] && (prune || unlink[id]) {
			out = append(out, chat.RemoveChild{RoomID: id})
		}
	}
	return out
}
