package matrix

import (
	"errors"
	"slices"
	"testing"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
)

// TestUpdateRevertsChangesByHand: an owner changes the topic, the join rule and a
// member's power level in their Matrix client; the next pass reports exactly
// those fields as drift and puts them back, and the pass after that is quiet.
func TestUpdateRevertsChangesByHand(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	var count Counter
	c := operatorClient(t, count.Observe)
	alice, dave := hs.users["alice"], hs.users["dave"]
	p := provision(t, c, space("eng-drift", collabv1.VisibilityDepartment,
		[]collabv1.Member{userMember("alice", collabv1.RoleOwner), userMember("dave", collabv1.RoleMember)},
		collabv1.Room{Name: "general", Topic: "Everything engineering"}), nil)
	room := p.rooms["general"]
	if err := alice.join(ctx, room); err != nil {
		t.Fatal(err)
	}
	if err := alice.Update(ctx, room, []chat.Action{chat.SetTopic{Topic: "lunch plans"}}); err != nil {
		t.Fatalf("alice edits the topic: %v", err)
	}
	// The join rule and power levels need the operator's level: an Owner is
	// refused, so the rest of the drift is made as only someone at 100 could (an
	// Owner from before the operator kept 100 to itself, or a server admin).
	open := []chat.Action{chat.SetJoinRules{JoinRule: chat.JoinRulePublic}}
	if err := alice.Update(ctx, room, open); !errors.Is(err, chat.ErrForbidden) {
		t.Fatalf("alice opens the room: %v, want it forbidden", err)
	}
	if err := c.Update(ctx, room, open); err != nil {
		t.Fatal(err)
	}
	o, err := c.Observe(ctx, plan.RoomAlias("dept-eng-drift", "eng-drift", "general"))
	if err != nil {
		t.Fatal(err)
	}
	pl := o.PowerLevels
	pl.Users = map[string]int{}
	for u, l := range o.PowerLevels.Users {
		pl.Users[u] = l
	}
	pl.Users[dave.ID] = 50
	if err := c.Update(ctx, room, []chat.Action{chat.SetPowerLevels{PowerLevels: pl}}); err != nil {
		t.Fatalf("dave made a moderator by hand: %v", err)
	}

	report := reconcile(t, c, p.specs["general"], chat.PlanOptions{OperatorUserID: hs.operator.ID})
	if want := []string{"topic", "joinRule", "powerLevels"}; !slices.Equal(report.Drift, want) {
		t.Errorf("drift = %v, want %v", report.Drift, want)
	}
	o, err = c.Observe(ctx, plan.RoomAlias("dept-eng-drift", "eng-drift", "general"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Topic != "Everything engineering" || o.JoinRule != chat.JoinRuleRestricted || o.PowerLevels.UserLevel(dave.ID) != 0 {
		t.Errorf("after the pass: topic %q, join rule %s, dave's level %d; want the spec back",
			o.Topic, o.JoinRule, o.PowerLevels.UserLevel(dave.ID))
	}
	assertSteady(t, c, &count, p)
}

// TestAuthoritativeRemovesUndeclared: under the Authoritative policy a person
// who joined on their own is removed, while the Additive policy keeps them.
func TestAuthoritativeRemovesUndeclared(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := operatorClient(t, nil)
	carol := hs.users["carol"]
	p := provision(t, c, space("eng-auth", collabv1.VisibilityOpen,
		[]collabv1.Member{userMember("alice", collabv1.RoleOwner)}, collabv1.Room{Name: "general"}), nil)
	if err := carol.join(ctx, p.rooms["general"]); err != nil {
		t.Fatal(err)
	}
	spec := p.specs["general"]
	if r := reconcile(t, c, spec, chat.PlanOptions{OperatorUserID: hs.operator.ID}); len(r.Drift) != 0 {
		t.Errorf("additive pass found drift %v, want none: carol may stay", r.Drift)
	}
	reconcile(t, c, spec, chat.PlanOptions{OperatorUserID: hs.operator.ID, Authoritative: true})
	o, err := c.Observe(ctx, spec.AliasLocalpart)
	if err != nil {
		t.Fatal(err)
	}
	if o.Members[carol.ID] != chat.MembershipLeave || o.Declined[carol.ID] {
		t.Errorf("carol's membership = %q (declined %v), want removed by the operator", o.Members[carol.ID], o.Declined[carol.ID])
	}
	if !o.Joined("@alice:localhost") {
		t.Error("the declared owner alice lost her invitation")
	}
}
