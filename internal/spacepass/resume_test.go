package spacepass

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers/chatbackend/stream"
	"github.com/opencommons/collab-operator/internal/chat"
	chatfake "github.com/opencommons/collab-operator/internal/chat/fake"
	"github.com/opencommons/collab-operator/internal/testing/chattest"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// TestCutOffPassResumes: a pass that the server cuts off with a long rate limit
// after the space room and "general" leaves them for the next pass, which reads
// only "random" — unless the stream of changes reported a change or broke in
// between, or the room's desired state changed. A pass that completes leaves
// nothing: the one after it reads every room again.
func TestCutOffPassResumes(t *testing.T) {
	all := []string{"ns.eng", "ns.eng.general", "ns.eng.random"}
	cases := map[string]struct {
		between func(*stream.Streams, *collabv1.CollaborationSpace)
		want    []string // what the resumed pass reads
	}{
		"nothing changed: only the room the pass did not reach is read": {
			want: []string{"ns.eng.random"},
		},
		"the stream reported a change: every room is read": {
			between: func(s *stream.Streams, _ *collabv1.CollaborationSpace) { s.Bump("chat") },
			want:    all,
		},
		"the stream broke: every room is read": {
			between: func(s *stream.Streams, _ *collabv1.CollaborationSpace) { s.SetHealthy("chat", false) },
			want:    all,
		},
		"general's topic changed in the spec: general is read again": {
			between: func(_ *stream.Streams, sp *collabv1.CollaborationSpace) { sp.Spec.Chat.Rooms[0].Topic = "new" },
			want:    []string{"ns.eng.general", "ns.eng.random"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			space := outcomeSpace(false, 0, 0)
			space.Spec.Chat.Rooms = append(space.Spec.Chat.Rooms, collabv1.Room{Name: "random"})
			var reads []string
			limited := false
			fake := &chatfake.Client{
				ObserveFn: func(_ context.Context, alias string) (*chat.ObservedRoom, error) {
					reads = append(reads, alias)
					if alias == "ns.eng.random" && !limited {
						limited = true
						return nil, rateLimited{wait: 20 * time.Second}
					}
					return &chat.ObservedRoom{RoomID: "!" + alias, Creator: "@op:x", OwnerSender: "@op:x", Owner: "ns/eng"}, nil
				},
				// Once the ids are in status, a room is found by resolving its alias.
				ResolveAliasFn: func(_ context.Context, alias string) (string, error) {
					reads = append(reads, alias)
					return "!" + alias, nil
				},
				ObserveIDFn: func(_ context.Context, id string) (*chat.ObservedRoom, error) {
					return &chat.ObservedRoom{RoomID: id, Creator: "@op:x", OwnerSender: "@op:x", Owner: "ns/eng"}, nil
				},
				UpdateFn: func(context.Context, string, []chat.Action) error { return nil },
			}
			c := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).
				WithObjects(space, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}, chattest.Backend(), chattest.Secret("chat-creds", "accessToken")).
				WithStatusSubresource(&collabv1.CollaborationSpace{}).Build()
			streams := stream.Holding("chat")
			r := &Pass{
				Client: c, APIReader: c, Scheme: testenv.Scheme(), Recorder: events.NewFakeRecorder(100),
				CredentialsNamespace: "collab-system", Chat: &chattest.Connector{C: fake}, Streams: streams,
			}
			req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(space)}
			pass := func() ctrl.Result {
				t.Helper()
				reads = nil
				res, _ := r.Reconcile(context.Background(), req)
				return res
			}

			if res := pass(); res.RequeueAfter != 20*time.Second || !slices.Equal(reads, all) {
				t.Fatalf("cut-off pass: requeue %s, reads %v; want 20s after reading %v", res.RequeueAfter, reads, all)
			}
			if tc.between != nil {
				cur := &collabv1.CollaborationSpace{}
				if err := c.Get(context.Background(), req.NamespacedName, cur); err != nil {
					t.Fatal(err)
				}
				tc.between(streams, cur)
				if err := c.Update(context.Background(), cur); err != nil {
					t.Fatal(err)
				}
			}
			pass()
			if !slices.Equal(reads, tc.want) {
				t.Errorf("resumed pass read %v, want %v", reads, tc.want)
			}
			got := &collabv1.CollaborationSpace{}
			if err := c.Get(context.Background(), req.NamespacedName, got); err != nil {
				t.Fatal(err)
			}
			if got.Status.Chat == nil || len(got.Status.Chat.Rooms) != 2 || got.Status.Chat.Rooms[0].RoomID != "!ns.eng.general" ||
				got.Status.Chat.SpaceID != "!ns.eng" {
				t.Errorf("status after the resumed pass = %+v, want the space room and both rooms", got.Status.Chat)
			}
			streams.SetHealthy("chat", true)
			pass()
			if !slices.Equal(reads, all) {
				t.Errorf("the pass after a completed one read %v, want every room %v", reads, all)
			}
		})
	}
}
