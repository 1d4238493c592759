package reaper

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	chatfake "github.com/opencommons/collab-operator/internal/chat/fake"
	"github.com/opencommons/collab-operator/internal/testing/chattest"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// reaperOver returns a reaper pass of backend "chat" over the fake's rooms, due
// every time it is called, with objs in the cluster.
func reaperOver(t *testing.T, fake *chattest.Listing, grace time.Duration, objs ...client.Object) func() {
	backend := chattest.Backend()
	c := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(objs...).Build()
	r := &Reaper{Client: c, Recorder: events.NewFakeRecorder(10), Grace: grace, Interval: time.Nanosecond}
	conn := chattest.Conn(backend, fake)
	return func() {
		t.Helper()
		if err := r.Reap(context.Background(), conn, backend); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTheReaperJudgesNoRoomStillBeingMade: Dendrite lists a room among the
// operator's as soon as the creator has joined, before the rest of the initial
// state (the owner marker, the canonical alias) is stored. A reaper pass that reads
// the room in that moment must leave it for later, not judge it someone else's
// for good: the room is then found whole, and adopted, on a later pass. Measured
// on real Dendrite under load, the old order lost such an orphan in 2 of 6 runs.
func TestTheReaperJudgesNoRoomStillBeingMade(t *testing.T) {
	const (
		operator = "@op:x"
		orphanID = "!orphan:x"
		alias    = "ns.eng.extra"
	)
	grace := time.Minute
	created := time.Now()
	halfMade := &chat.ObservedRoom{RoomID: orphanID, Creator: operator, Created: created}
	whole := &chat.ObservedRoom{RoomID: orphanID, Creator: operator, Created: created,
		OwnerSender: operator, Owner: "ns/eng", CanonicalAlias: "#" + alias + ":x"}
	observed := halfMade
	var aliased []string
	fake := &chattest.Listing{Joined: []string{orphanID}, Client: chatfake.Client{
		ObserveIDFn:    func(context.Context, string) (*chat.ObservedRoom, error) { return observed, nil },
		ResolveAliasFn: func(context.Context, string) (string, error) { return "", nil },
		SetAliasFn: func(_ context.Context, localpart, roomID string) error {
			aliased = append(aliased, localpart+" -> "+roomID)
			return nil
		},
	}}
	reap := reaperOver(t, fake, grace)
	pass := func(at time.Time) {
		t.Helper()
		observed.Created = at
		reap()
	}

	pass(time.Now()) // read mid-create: no owner marker yet
	if len(aliased) != 0 {
		t.Fatalf("a room read mid-create was adopted: %v", aliased)
	}
	observed = whole
	pass(time.Now().Add(-2 * grace)) // the create has long finished; nothing pointed the alias at it
	if want := alias + " -> " + orphanID; len(aliased) != 1 || aliased[0] != want {
		t.Errorf("aliases set = %v, want [%s]: the orphan was not adopted once whole and old enough", aliased, want)
	}
}

// TestTheReaperReadsARoomItsAliasFindsOnce: a room no space records but whose
// alias points at it (its space was deleted under Retain, or is not yet
// re-applied after an uninstall) is not lost, and is read once, not on every pass:
// otherwise what the reaper costs grows with every room a space ever left behind.
func TestTheReaperReadsARoomItsAliasFindsOnce(t *testing.T) {
	const operator, id = "@op:x", "!kept:x"
	reads := 0
	fake := &chattest.Listing{Joined: []string{id}, Client: chatfake.Client{
		ObserveIDFn: func(context.Context, string) (*chat.ObservedRoom, error) {
			reads++
			return &chat.ObservedRoom{RoomID: id, Creator: operator, Created: time.Now().Add(-time.Hour),
				OwnerSender: operator, Owner: "ns/eng", CanonicalAlias: "#ns.eng.kept:x"}, nil
		},
		ResolveAliasFn: func(context.Context, string) (string, error) { return id, nil },
	}}
	reap := reaperOver(t, fake, time.Minute)
	for range 3 {
		reap()
	}
	if reads != 1 {
		t.Errorf("the room was read %d times over 3 passes, want once", reads)
	}
}

// TestTheReaperLeavesASiblingBackendsRoomsAlone: two ChatBackends may use one
// server and one account, say one reserved for some departments. The rooms the
// other backend's spaces record, and its directory, are in the account's room list
// too; the reaper must not take them for rooms nobody records. It used to read
// each of them, and warn (OrphanIgnored) about the other backend's directory on
// every backend, in every pass.
func TestTheReaperLeavesASiblingBackendsRoomsAlone(t *testing.T) {
	sibling := chattest.Backend()
	sibling.Name, sibling.Status.DirectorySpaceID = "reserved", "!directory:x"
	space := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "eng", Namespace: "ns"},
		Spec:       collabv1.CollaborationSpaceSpec{Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: "reserved"}}},
		Status: collabv1.CollaborationSpaceStatus{Chat: &collabv1.ChatStatus{SpaceID: "!space:x",
			Rooms: []collabv1.RoomStatus{{Name: "general", RoomID: "!general:x"}}}},
	}
	var read []string
	fake := &chattest.Listing{Joined: []string{"!directory:x", "!space:x", "!general:x"}, Client: chatfake.Client{
		ObserveIDFn: func(_ context.Context, id string) (*chat.ObservedRoom, error) {
			read = append(read, id)
			return nil, errors.New("not expected")
		},
	}}
	reaperOver(t, fake, time.Minute, sibling, space, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}})()
	if len(read) != 0 {
		t.Errorf("the reaper of backend chat read %v, rooms backend reserved records", read)
	}
}
