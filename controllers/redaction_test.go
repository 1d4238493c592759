package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// redactionWithin is how soon a redaction is undone and a removed Owner lowered:
// the stream wakes the space within about a second, so 15 s is ample and far
// below the backend's hourly full check.
const redactionWithin = 15 * time.Second

// ownBackend makes a ChatBackend with an operator account of its own and no full
// check to hide behind (poll interval one hour): only its /sync stream can wake
// its spaces. Every other backend here shares the suite's account, whose stream
// would wake the space too.
func ownBackend(t *testing.T, ctx context.Context, ns string) (*collabv1.ChatBackend, *matrixuser.User) {
	t.Helper()
	account, err := register(ctx, "operator-"+ns, false)
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "matrix-redaction-", Namespace: operatorNamespace},
		Data:       map[string][]byte{"accessToken": []byte(account.Token())},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), secret) })
	backend := &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "matrix-redaction-"},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{
				HomeserverURL:        homeserver.URL,
				ServerName:           homeserver.ServerName,
				CredentialsSecretRef: collabv1.SecretReference{Name: secret.Name},
			},
			PollInterval: metav1.Duration{Duration: time.Hour},
		},
	}
	if err := k8sClient.Create(ctx, backend); err != nil {
		t.Fatal(err)
	}
	return backend, account
}

// twoOwnerSpace is a space on backend with two Owners (dave and erin), so
// removing one leaves an Owner and the last owner guard does not hold the other.
func twoOwnerSpace(ns, name string, backend *collabv1.ChatBackend) *collabv1.CollaborationSpace {
	space := chatSpace(ns, name, collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	space.Spec.Chat.BackendRef.Name = backend.Name
	space.Spec.MemberPolicy = collabv1.MemberPolicyAuthoritative
	space.Spec.Members = append(space.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: "erin", Role: collabv1.RoleOwner})
	return space
}

// redactState redacts a room's current state event of the given type, as who.
func redactState(t *testing.T, ctx context.Context, who *matrixuser.User, room, eventType string) {
	t.Helper()
	id, err := who.StateEventID(ctx, room, eventType, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := who.Redact(ctx, room, id); err != nil {
		t.Fatalf("%s cannot redact %s in %s: %v", who.ID, eventType, room, err)
	}
}

// within polls cond until it holds or d passes, then fails with its last reason.
func within(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	var why string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, why = cond(); ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not within %s: %s: %s", d, what, why)
}

// markerOwner reads a room's owner marker as account sees it.
func markerOwner(ctx context.Context, account *matrixuser.User, room string) (string, error) {
	var c struct {
		Owner string `json:"owner"`
	}
	err := account.State(ctx, room, chat.OwnerEventType, &c)
	return c.Owner, err
}

// readyNotStalled reports whether the space is Ready at its generation and not
// Stalled.
func readyNotStalled(t *testing.T, space *collabv1.CollaborationSpace) (bool, string) {
	got := getSpace(t, space)
	if c := meta.FindStatusCondition(got.Status.Conditions, collabv1.StalledCondition); c != nil && c.Status == metav1.ConditionTrue {
		return false, fmt.Sprintf("Stalled: %s %s", c.Reason, c.Message)
	}
	c := meta.FindStatusCondition(got.Status.Conditions, collabv1.ReadyCondition)
	if c == nil {
		return false, "no Ready condition"
	}
	return c.Status == metav1.ConditionTrue && got.Status.ObservedGeneration == got.Generation,
		fmt.Sprintf("Ready=%s %s: %s (observed %d of %d)", c.Status, c.Reason, c.Message, got.Status.ObservedGeneration, got.Generation)
}

// TestARemovedOwnerWhoRedactsTheOwnerMarkerIsStillLowered: an Owner may redact
// (level 50 in a room whose posting is Members). Before the operator's pass that
// removes them, they redact the operator's owner marker in every room of the
// space, hoping the operator then takes the rooms for someone else's and stops.
// What the user checks: the removed Owner is below 50 in every room within
// seconds, the space stays Ready, and the markers name the space again. Abuse on
// real Dendrite, with the Owner's own Matrix client.
func TestARemovedOwnerWhoRedactsTheOwnerMarkerIsStillLowered(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	backend, account := ownBackend(t, ctx, ns)
	space := twoOwnerSpace(ns, "marker", backend)
	createSpace(t, space)
	t.Cleanup(func() { removeSpaceAndBackend(t, space, backend) })
	space = waitReady(t, client.ObjectKeyFromObject(space))
	rooms := []string{space.Status.Chat.SpaceID, roomID(t, space, "general")}
	dave := person(t, "dave")
	for _, room := range rooms {
		if err := dave.Join(ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	for _, room := range rooms {
		redactState(t, ctx, dave, room, chat.OwnerEventType)
	}
	updateSpace(t, space, func(s *collabv1.CollaborationSpace) {
		s.Spec.Members = removeMember(s.Spec.Members, "dave")
	}, false)

	owner := ns + "/marker"
	within(t, redactionWithin, "dave below 50 and the markers back in every room", func() (bool, string) {
		for _, room := range rooms {
			var pl struct {
				Users map[string]int `json:"users"`
			}
			if err := account.State(ctx, room, "m.room.power_levels", &pl); err != nil {
				return false, err.Error()
			}
			if pl.Users[dave.ID] >= 50 {
				return false, fmt.Sprintf("dave is at %d in %s", pl.Users[dave.ID], room)
			}
			if got, err := markerOwner(ctx, account, room); err != nil || got != owner {
				return false, fmt.Sprintf("marker of %s names %q (%v), want %q", room, got, err, owner)
			}
		}
		return readyNotStalled(t, space)
	})
}

// TestARedactedPowerLevelsEventIsPutBack: redacting m.room.power_levels in a
// version 10 room drops "invite", which then defaults to 0, so any member could
// invite anyone; redacting the owner marker empties it. The space's spec does not
// change, and its backend checks every hour only: the stream alone must notice,
// and the levels and the marker must be back within seconds.
func TestARedactedPowerLevelsEventIsPutBack(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	backend, account := ownBackend(t, ctx, ns)
	space := twoOwnerSpace(ns, "levels", backend)
	createSpace(t, space)
	t.Cleanup(func() { removeSpaceAndBackend(t, space, backend) })
	space = waitReady(t, client.ObjectKeyFromObject(space))
	general := roomID(t, space, "general")
	dave := person(t, "dave")
	if err := joinFromSpace(ctx, dave, space, general); err != nil {
		t.Fatal(err)
	}
	redactState(t, ctx, dave, general, "m.room.power_levels")
	redactState(t, ctx, dave, general, chat.OwnerEventType)
	var redacted map[string]any
	if err := account.State(ctx, general, "m.room.power_levels", &redacted); err != nil {
		t.Fatal(err)
	}
	if _, ok := redacted["invite"]; ok {
		t.Logf("the redacted levels still hold invite (%v); the server keeps it", redacted["invite"])
	}

	owner := ns + "/levels"
	within(t, redactionWithin, "general's levels and marker to be put back", func() (bool, string) {
		var pl struct {
			Invite *int `json:"invite"`
		}
		if err := account.State(ctx, general, "m.room.power_levels", &pl); err != nil {
			return false, err.Error()
		}
		if pl.Invite == nil || *pl.Invite != 50 {
			return false, fmt.Sprintf("invite is %v, want 50", deref(pl.Invite))
		}
		if got, err := markerOwner(ctx, account, general); err != nil || got != owner {
			return false, fmt.Sprintf("marker names %q (%v), want %q", got, err, owner)
		}
		return readyNotStalled(t, space)
	})
}

// TestARoomWithARedactedMarkerIsNotAdoptedByAnotherNamespace: the other side of
// trusting a redacted marker. A space deleted under Retain leaves its room; an
// Owner redacts the room's marker and its creation event, so nothing in the room
// names its space any more, and points the alias another namespace's space will
// look for at it. That space must not take the room: it stalls with
// AliasConflict, and the room stays out of its status.
func TestARoomWithARedactedMarkerIsNotAdoptedByAnotherNamespace(t *testing.T) {
	ctx := testCtx(t)
	victimNS, attackerNS := newNamespace(t), newNamespace(t)
	backend, account := ownBackend(t, ctx, victimNS)
	victim := twoOwnerSpace(victimNS, "victim", backend)
	victim.Spec.DeletionPolicy = collabv1.DeletionPolicyRetain
	createSpace(t, victim)
	victim = waitReady(t, client.ObjectKeyFromObject(victim))
	general := roomID(t, victim, "general")
	dave := person(t, "dave")
	if err := joinFromSpace(ctx, dave, victim, general); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Delete(ctx, victim); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the victim space to be gone", func() (bool, string) {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(victim), &collabv1.CollaborationSpace{})
		return client.IgnoreNotFound(err) == nil && err != nil, fmt.Sprint(err)
	})
	redactState(t, ctx, dave, general, chat.OwnerEventType)
	redactState(t, ctx, dave, general, "m.room.create")
	alias := "#" + attackerNS + ".evil.general:" + homeserver.ServerName
	if err := dave.SetAlias(ctx, alias, general); err != nil {
		t.Fatalf("dave cannot point %s at the room: %v", alias, err)
	}

	attacker := twoOwnerSpace(attackerNS, "evil", backend)
	createSpace(t, attacker)
	t.Cleanup(func() { removeSpaceAndBackend(t, attacker, backend) })
	c := waitCondition(t, attacker, func() []metav1.Condition { return attacker.Status.Conditions },
		collabv1.ChatReadyCondition, collabv1.ReasonAliasConflict)
	if attacker.Status.Chat != nil {
		for _, r := range attacker.Status.Chat.Rooms {
			if r.RoomID == general {
				t.Errorf("the other namespace's space recorded the victim's room %s", general)
			}
		}
	}
	if got, err := markerOwner(ctx, account, general); err != nil || got != "" {
		t.Errorf("the victim's marker names %q (%v) after the conflict (%s), want it left redacted", got, err, c.Message)
	}
}

// removeMember returns members without the user named name.
func removeMember(members []collabv1.Member, name string) []collabv1.Member {
	var out []collabv1.Member
	for _, m := range members {
		if m.Kind != collabv1.SubjectUser || m.Name != name {
			out = append(out, m)
		}
	}
	return out
}

func deref(p *int) any {
	if p == nil {
		return "missing"
	}
	return *p
}
