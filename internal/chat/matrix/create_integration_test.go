package matrix

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
)

// TestCreateSpaceAndRooms creates a department the way the controller does and
// checks that the server holds what the spec says, that each room took exactly
// one write, and that a second pass over the unchanged rooms writes nothing.
func TestCreateSpaceAndRooms(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	var count Counter
	c := operatorClient(t, count.Observe)
	if _, err := c.Whoami(ctx); err != nil { // logs in, so the counts below are the rooms' own
		t.Fatal(err)
	}
	cs := space("eng-create", collabv1.VisibilityDepartment,
		[]collabv1.Member{userMember("alice", collabv1.RoleOwner), userMember("bob", collabv1.RoleMember)},
		collabv1.Room{Name: "general", Topic: "Everything engineering"},
		collabv1.Room{Name: "announcements", Posting: collabv1.PostingOwners})

	before := count.Writes()
	p := provision(t, c, cs, nil)
	// 1 createRoom for the space, 1 per room, then one m.space.child per room.
	if got, want := count.Writes()-before, int64(1+2+2); got != want {
		t.Errorf("provisioning made %d write requests, want %d", got, want)
	}

	sp, err := c.Observe(ctx, plan.SpaceAlias("dept-eng-create", "eng-create"))
	if err != nil {
		t.Fatal(err)
	}
	want := &chat.ObservedRoom{
		RoomID: p.spaceID, Alias: "#dept-eng-create.eng-create:localhost", Name: "Dept eng-create", Topic: "Where eng-create talks",
		Creator: hs.operator.ID, OwnerSender: hs.operator.ID, CanonicalAlias: "#dept-eng-create.eng-create:localhost",
		CreatedFor: "dept-eng-create/eng-create",
		Space:      true, JoinRule: chat.JoinRuleInvite, PowerLevels: p.space.PowerLevels,
		Members:  map[string]chat.Membership{hs.operator.ID: "join", "@alice:localhost": "invite", "@bob:localhost": "invite"},
		Children: map[string]bool{p.rooms["general"]: true, p.rooms["announcements"]: true},
		Owner:    "dept-eng-create/eng-create",
	}
	if time.Since(sp.Created) > time.Minute {
		t.Errorf("the space was created at %s, want just now", sp.Created)
	}
	sp.Created = time.Time{}
	if diff := cmp.Diff(want, sp, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("observed space (-want +got):\n%s", diff)
	}

	general, err := c.Observe(ctx, plan.RoomAlias("dept-eng-create", "eng-create", "general"))
	if err != nil {
		t.Fatal(err)
	}
	if general.JoinRule != chat.JoinRuleRestricted || !chat.SameSet(general.AllowRoomIDs, []string{p.spaceID}) {
		t.Errorf("general join rule = %s %v, want restricted to [%s]", general.JoinRule, general.AllowRoomIDs, p.spaceID)
	}
	if !general.Parents[p.spaceID] || general.Topic != "Everything engineering" || general.Space {
		t.Errorf("general = parents %v topic %q space %v", general.Parents, general.Topic, general.Space)
	}
	ann, err := c.Observe(ctx, plan.RoomAlias("dept-eng-create", "eng-create", "announcements"))
	if err != nil {
		t.Fatal(err)
	}
	if ann.PowerLevels.EventsDefault != 90 || ann.PowerLevels.UserLevel("@alice:localhost") != 90 ||
		ann.PowerLevels.UserLevel("@bob:localhost") != 0 || ann.PowerLevels.UserLevel(hs.operator.ID) != 100 {
		t.Errorf("announcements levels = %+v, want posting 90, alice 90, bob 0, the operator 100", ann.PowerLevels)
	}
	if ann.Creator != hs.operator.ID || ann.OwnerSender != hs.operator.ID {
		t.Errorf("announcements created by %q, owner marker by %q, want both by the operator %s",
			ann.Creator, ann.OwnerSender, hs.operator.ID)
	}

	assertSteady(t, c, &count, p)
}

// assertSteady runs a controller pass over every room and checks it plans
// nothing and sends no write request.
func assertSteady(t *testing.T, c *Client, count *Counter, p provisioned) {
	t.Helper()
	ctx := testContext(t)
	before := count.Writes()
	specs := []chat.RoomSpec{p.space}
	for _, s := range p.specs {
		specs = append(specs, s)
	}
	for _, spec := range specs {
		o, err := c.Observe(ctx, spec.AliasLocalpart)
		if err != nil {
			t.Fatal(err)
		}
		actions, report := planner.Plan(spec, *o, chat.PlanOptions{OperatorUserID: hs.operator.ID, Authoritative: true})
		if len(actions) != 0 || len(report.Drift) != 0 {
			t.Errorf("steady pass over %s planned %v (drift %v)", spec.AliasLocalpart, actions, report.Drift)
		}
	}
	if n := count.Writes() - before; n != 0 {
		t.Errorf("steady pass made %d write requests, want 0", n)
	}
}

// TestCreateAdopts covers a crash between creating a room and recording it: the
// next Create returns the same room instead of a duplicate, and a room another
// space (or a person) holds under the alias is refused, not adopted.
func TestCreateAdopts(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	var count Counter
	c := operatorClient(t, count.Observe)
	spec := chat.RoomSpec{AliasLocalpart: "adopt-general", Name: "general", JoinRule: chat.JoinRuleInvite, Owner: "dept-a/adopt"}
	first, err := c.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Create(ctx, spec)
	if err != nil {
		t.Fatalf("second Create: %v", err)
	}
	if second.RoomID != first.RoomID || second.Owner != spec.Owner {
		t.Errorf("second Create returned room %s of %q, want the existing %s", second.RoomID, second.Owner, first.RoomID)
	}
	if owned := ownedRooms(t, c, spec.Owner); len(owned) != 1 {
		t.Errorf("the operator is in %d rooms of %s, want 1: a duplicate was made", len(owned), spec.Owner)
	}

	other := spec
	other.Owner = "dept-b/adopt"
	if _, err := c.Create(ctx, other); !errors.Is(err, chat.ErrAliasConflict) {
		t.Errorf("Create for another space = %v, want ErrAliasConflict", err)
	}

	alice := hs.users["alice"]
	if _, err := alice.Create(ctx, chat.RoomSpec{AliasLocalpart: "adopt-by-hand", JoinRule: chat.JoinRulePublic}); err != nil {
		t.Fatal(err)
	}
	// alice's room carries an empty owner marker and the operator is not in it.
	if _, err := c.Create(ctx, chat.RoomSpec{AliasLocalpart: "adopt-by-hand", Owner: "dept-a/adopt"}); !errors.Is(err, chat.ErrAliasConflict) {
		t.Errorf("Create over a room made by hand = %v, want ErrAliasConflict", err)
	}
}

// ownedRooms lists the operator's rooms whose owner marker names owner. Other
// tests create and purge rooms meanwhile, so rooms that vanish are skipped and
// a joined_rooms failing during a purge (Dendrite answers 500) is retried.
func ownedRooms(t *testing.T, c *Client, owner string) []string {
	t.Helper()
	ctx := testContext(t)
	var out struct {
		Rooms []string `json:"joined_rooms"`
	}
	eventually(t, 10*time.Second, func() error {
		return c.do(ctx, call{method: http.MethodGet, op: "joinedRooms", path: v3 + "/joined_rooms"}, &out)
	})
	var owned []string
	for _, id := range out.Rooms {
		var marker ownerContent
		if err := c.getState(ctx, id, chat.OwnerEventType, "", &marker); err == nil && marker.Owner == owner {
			owned = append(owned, id)
		}
	}
	return owned
}
