package reaper

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	chatfake "github.com/opencommons/collab-operator/internal/chat/fake"
	"github.com/opencommons/collab-operator/internal/testing/chattest"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// TestTheReaperDeletesOnlyRoomsThatNeverHeldAnything: whatever a room's state
// says of its making (half made, its canonical alias gone, a duplicate of its
// space's room), a room anyone but the operator was ever a member of, or that its
// space room lists, is kept and reported; spec.reaper.mode narrows what the reaper
// does to the rest, and maxDeletionsPerHour caps deletions.
func TestTheReaperDeletesOnlyRoomsThatNeverHeldAnything(t *testing.T) {
	const (
		op      = "@op:x"
		spaceID = "!space:x"
		owner   = "ns/eng"
	)
	old := time.Now().Add(-time.Hour)
	// noAlias is a room of the operator's with its marker and no canonical alias:
	// what a create cut off before its alias leaves, and what a room whose
	// canonical alias a Moderator redacted looks like.
	noAlias := func(id string, members map[string]chat.Membership, parents ...string) *chat.ObservedRoom {
		r := &chat.ObservedRoom{RoomID: id, Creator: op, Created: old, CreatedFor: owner, Owner: owner, OwnerSender: op,
			Members: map[string]chat.Membership{op: chat.MembershipJoin}, Parents: map[string]bool{}}
		for u, m := range members {
			r.Members[u] = m
		}
		for _, p := range parents {
			r.Parents[p] = true
		}
		return r
	}
	duplicate := &chat.ObservedRoom{RoomID: "!dup:x", Creator: op, Created: old, Owner: owner, OwnerSender: op,
		CanonicalAlias: "#ns.eng.general:x", Members: map[string]chat.Membership{op: chat.MembershipJoin, "@ann:x": chat.MembershipLeave}}
	keeper := &chat.ObservedRoom{RoomID: "!general:x", Creator: op, Created: old, Owner: owner, OwnerSender: op,
		CanonicalAlias: "#ns.eng.general:x"}
	orphan := &chat.ObservedRoom{RoomID: "!orphan:x", Creator: op, Created: old, Owner: owner, OwnerSender: op,
		CanonicalAlias: "#ns.eng.extra:x", Members: map[string]chat.Membership{op: chat.MembershipJoin}}
	spaceRoom := &chat.ObservedRoom{RoomID: spaceID, Creator: op, Created: old, Owner: owner, OwnerSender: op,
		Space: true, Children: map[string]bool{"!listed:x": true}}

	type want struct {
		Deleted, Aliased []string
		Reasons          []string
	}
	tests := map[string]struct {
		rooms  []*chat.ObservedRoom
		reaper *collabv1.Reaper
		want   want
	}{
		"a room everyone left is kept": {
			rooms: []*chat.ObservedRoom{noAlias("!left:x", map[string]chat.Membership{"@carol:x": chat.MembershipLeave})},
			want:  want{Reasons: []string{"OrphanKept"}},
		},
		"a room with an invitation nobody answered is kept": {
			rooms: []*chat.ObservedRoom{noAlias("!invited:x", map[string]chat.Membership{"@dave:x": chat.MembershipInvite})},
			want:  want{Reasons: []string{"OrphanKept"}},
		},
		"a room someone was banned from is kept": {
			rooms: []*chat.ObservedRoom{noAlias("!banned:x", map[string]chat.Membership{"@eve:x": chat.MembershipBan})},
			want:  want{Reasons: []string{"OrphanKept"}},
		},
		"a room its space room lists is kept, though nobody was in it": {
			rooms: []*chat.ObservedRoom{noAlias("!listed:x", nil, spaceID)},
			want:  want{Reasons: []string{"OrphanKept"}},
		},
		"a duplicate someone left is kept": {
			rooms: []*chat.ObservedRoom{duplicate},
			want:  want{Reasons: []string{"OrphanKept"}},
		},
		"a room nobody was in, that its parent does not list, is deleted by default": {
			rooms: []*chat.ObservedRoom{noAlias("!empty:x", nil, spaceID)},
			want:  want{Deleted: []string{"!empty:x"}, Reasons: []string{"OrphanDeleted"}},
		},
		"Report deletes nothing and adopts nothing": {
			rooms:  []*chat.ObservedRoom{noAlias("!empty:x", nil), orphan},
			reaper: &collabv1.Reaper{Mode: collabv1.ReaperModeReport},
			want:   want{Reasons: []string{"OrphanReported", "OrphanReported"}},
		},
		"Adopt adopts and deletes nothing": {
			rooms:  []*chat.ObservedRoom{noAlias("!empty:x", nil), orphan},
			reaper: &collabv1.Reaper{Mode: collabv1.ReaperModeAdopt},
			want:   want{Aliased: []string{"ns.eng.extra -> !orphan:x"}, Reasons: []string{"OrphanReported", "OrphanAdopted"}},
		},
		"the hour's cap holds the rest": {
			rooms:  []*chat.ObservedRoom{noAlias("!a:x", nil), noAlias("!b:x", nil), noAlias("!c:x", nil)},
			reaper: &collabv1.Reaper{Mode: collabv1.ReaperModeDelete, MaxDeletionsPerHour: ptr.To[int32](2)},
			want:   want{Deleted: []string{"!a:x", "!b:x"}, Reasons: []string{"OrphanDeleted", "OrphanDeleted", "OrphanHeld"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			byID := map[string]*chat.ObservedRoom{spaceID: spaceRoom, keeper.RoomID: keeper}
			var joined []string
			for _, r := range tc.rooms {
				byID[r.RoomID] = r
				joined = append(joined, r.RoomID)
			}
			var got want
			fake := &chattest.Listing{Joined: joined, Client: chatfake.Client{
				ObserveIDFn: func(_ context.Context, id string) (*chat.ObservedRoom, error) { return byID[id], nil },
				ResolveAliasFn: func(_ context.Context, localpart string) (string, error) {
					if localpart == "ns.eng.general" {
						return keeper.RoomID, nil
					}
					return "", nil
				},
				SetAliasFn: func(_ context.Context, localpart, roomID string) error {
					got.Aliased = append(got.Aliased, localpart+" -> "+roomID)
					return nil
				},
				DeleteFn: func(_ context.Context, roomID string) error {
					got.Deleted = append(got.Deleted, roomID)
					return nil
				},
			}}
			backend := chattest.Backend()
			backend.Spec.Reaper = tc.reaper
			recorder := events.NewFakeRecorder(10)
			r := &Reaper{Client: fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).Build(), Recorder: recorder, Grace: time.Minute, Interval: time.Nanosecond}
			if err := r.Reap(context.Background(), chattest.Conn(backend, fake), backend); err != nil {
				t.Fatal(err)
			}
			for _, e := range chattest.Drain(recorder) {
				got.Reasons = append(got.Reasons, strings.Fields(e)[1])
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("what the reaper did (-want +got):\n%s", diff)
			}
		})
	}
}
