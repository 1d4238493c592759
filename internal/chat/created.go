package chat

import "slices"

// CreatedRoom describes a room just made from spec by the operator's account self,
// without reading it back: the spec's state, the operator joined at power 100 or
// more, the invited users invited. The Matrix client returns it from Create, and the
// dry run (collabctl plan) returns the same, so a plan continues from exactly what
// a real pass would.
func CreatedRoom(roomID, alias string, spec RoomSpec, self string) *ObservedRoom {
	r := &ObservedRoom{
		RoomID: roomID, Alias: alias, Creator: self, CreatedFor: spec.Owner, CanonicalAlias: alias, OwnerSender: self,
		Name: spec.Name, Topic: spec.Topic,
		Space: spec.Space, JoinRule: spec.JoinRule, Published: spec.Published, WorldReadable: spec.WorldReadable,
		PowerLevels: WithOperator(spec.PowerLevels, self), Owner: spec.Owner,
		Members:  map[string]Membership{self: MembershipJoin},
		Declined: map[string]bool{}, Children: map[string]bool{}, Parents: map[string]bool{},
	}
	if spec.JoinRule == JoinRuleRestricted {
		r.AllowRoomIDs = slices.Clone(spec.AllowRoomIDs)
	}
	for _, u := range spec.Invitations() {
		if u != self {
			r.Members[u] = MembershipInvite
		}
	}
	for _, id := range spec.Children {
		r.Children[id] = true
	}
	if spec.Parent != "" {
		r.Parents[spec.Parent] = true
	}
	return r
}

// WithOperator returns pl with the operator at power 100 or more: the account that
// makes a room must keep the power to manage it.
func WithOperator(pl PowerLevels, self string) PowerLevels {
	users := make(map[string]int, len(pl.Users)+1)
	for u, l := range pl.Users {
		users[u] = l
	}
	users[self] = max(users[self], 100)
	pl.Users = users
	return pl
}
