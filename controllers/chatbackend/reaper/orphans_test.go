package reaper

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/opencommons/collab-operator/internal/chat"
	chatfake "github.com/opencommons/collab-operator/internal/chat/fake"
	"github.com/opencommons/collab-operator/internal/testing/chattest"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// TestListingOrphansChangesNothing: `collabctl orphans` shows what the reaper
// would do with each room no space records (adopt an orphan whose alias is
// free, delete a duplicate that never held anything, keep one people were in,
// wait for a room too young to judge) and must not do any of it.
func TestListingOrphansChangesNothing(t *testing.T) {
	const op, owner = "@op:x", "ns/eng"
	old := time.Now().Add(-time.Hour)
	room := func(id, alias string, members ...string) *chat.ObservedRoom {
		r := &chat.ObservedRoom{RoomID: id, Creator: op, Created: old, Owner: owner, OwnerSender: op, CanonicalAlias: alias,
			Members: map[string]chat.Membership{op: chat.MembershipJoin}}
		for _, m := range members {
			r.Members[m] = chat.MembershipLeave
		}
		return r
	}
	young := room("!young:x", "#ns.eng.new:x")
	young.Created = time.Now()
	byID := map[string]*chat.ObservedRoom{
		"!general:x": room("!general:x", "#ns.eng.general:x"),
		"!orphan:x":  room("!orphan:x", "#ns.eng.extra:x"),
		"!dup:x":     room("!dup:x", "#ns.eng.general:x"),
		"!spoken:x":  room("!spoken:x", "#ns.eng.general:x", "@ann:x"),
		"!young:x":   young,
	}
	var writes []string
	fake := &chattest.Listing{Joined: []string{"!orphan:x", "!dup:x", "!spoken:x", "!young:x"}, Client: chatfake.Client{
		ObserveIDFn: func(_ context.Context, id string) (*chat.ObservedRoom, error) { return byID[id], nil },
		ResolveAliasFn: func(_ context.Context, localpart string) (string, error) {
			if localpart == "ns.eng.general" {
				return "!general:x", nil
			}
			return "", nil
		},
		SetAliasFn: func(_ context.Context, localpart, roomID string) error {
			writes = append(writes, "set alias "+localpart)
			return nil
		},
		DeleteFn: func(_ context.Context, roomID string) error {
			writes = append(writes, "delete "+roomID)
			return nil
		},
	}}
	backend := chattest.Backend()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "chat-creds", Namespace: "collab-system"},
		Data: map[string][]byte{"accessToken": []byte("t"), "userID": []byte(op)}}
	c := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(backend, secret).Build()

	got, err := ListOrphans(context.Background(), c, "chat", OrphanOptions{Chat: &chattest.Connector{C: fake},
		CredentialsNamespace: "collab-system", Grace: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for _, v := range got {
		actions[v.RoomID] = v.Action
		if v.Owner != owner {
			t.Errorf("%s: owner %q, want %q", v.RoomID, v.Owner, owner)
		}
	}
	want := map[string]string{"!orphan:x": "Adopt", "!dup:x": "Delete", "!spoken:x": "Keep", "!young:x": "Wait"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if len(writes) > 0 {
		t.Errorf("listing the orphans wrote to the chat server: %v", writes)
	}
}
