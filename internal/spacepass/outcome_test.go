package spacepass

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	chatfake "github.com/opencommons/collab-operator/internal/chat/fake"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/outcome"
	"github.com/opencommons/collab-operator/internal/spacepass/forumphase"
	"github.com/opencommons/collab-operator/internal/testing/chattest"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// rateLimited is what a chat client returns when the server asks for a long wait.
type rateLimited struct{ wait time.Duration }

func (e rateLimited) Error() string             { return "matrix getState: 429 M_LIMIT_EXCEEDED" }
func (e rateLimited) Is(target error) bool      { return target == chat.ErrRateLimited }
func (e rateLimited) RetryAfter() time.Duration { return e.wait }

// chatAnswering is a chat server that answers every read with err, or, when err is
// nil, holds the space's aliases in a room someone else made. With spaceRoom, it
// finds the space room the operator made (!space:x) and answers err after that.
func chatAnswering(err error, spaceRoom bool) *chatfake.Client {
	squatted := &chat.ObservedRoom{RoomID: "!squat:x", Creator: "@mallory:x", OwnerSender: "@mallory:x", Owner: "ns/eng"}
	return &chatfake.Client{
		ObserveFn: func(context.Context, string) (*chat.ObservedRoom, error) {
			if err != nil {
				return nil, err
			}
			return squatted, nil
		},
		ObserveIDFn: func(_ context.Context, id string) (*chat.ObservedRoom, error) {
			if spaceRoom && id == "!space:x" {
				return &chat.ObservedRoom{RoomID: id, Creator: "@op:x", OwnerSender: "@op:x", Owner: "ns/eng"}, nil
			}
			return nil, err
		},
		ResolveAliasFn: func(_ context.Context, alias string) (string, error) {
			if spaceRoom && alias == "ns.eng" {
				return "!space:x", nil
			}
			return "", err
		},
	}
}

// TestPassOutcome drives one pass of the reconciler over a space whose backends
// fail in the ways a user meets, with a fake Kubernetes client and fake chat
// server, and checks the conditions a user reads and what the pass returns.
func TestPassOutcome(t *testing.T) {
	down := fmt.Errorf("matrix getState: %w", chat.ErrUnavailable)
	type want struct {
		terminal    bool
		err         bool
		requeue     time.Duration
		ready       metav1.ConditionStatus
		reconciling string // reason, "" for absent
		stalled     string // reason, "" for absent
		chatReady   string // reason
		forumReady  string // reason, "" for absent
	}
	cases := map[string]struct {
		chatErr   error
		forumDown bool
		converged time.Duration // how long ago the space became Ready; 0: never
		faultFor  time.Duration // how long Reconciling has said so
		// answeredAgo > 0: the chat server last answered a pass that long ago.
		answeredAgo time.Duration
		// spaceRoomAnswers: the server finds the space room; chatErr is for the
		// rooms after it.
		spaceRoomAnswers bool
		want             want
	}{
		"chat server down on a new space": {
			chatErr: down,
			want:    want{err: true, ready: metav1.ConditionFalse, reconciling: collabv1.ReasonChatServerUnavailable, chatReady: collabv1.ReasonChatServerUnavailable},
		},
		"chat server down under a converged space: Ready holds": {
			chatErr: down, converged: time.Hour,
			want: want{err: true, ready: metav1.ConditionTrue, reconciling: collabv1.ReasonChatServerUnavailable, chatReady: "RoomsReady"},
		},
		"chat server down for longer than the grace: Ready goes": {
			chatErr: down, converged: time.Hour, faultFor: 3 * time.Minute,
			want: want{err: true, ready: metav1.ConditionFalse, reconciling: collabv1.ReasonChatServerUnavailable, chatReady: collabv1.ReasonChatServerUnavailable},
		},
		"faults for longer than the grace, but the server answered a pass 30s ago: Ready holds": {
			chatErr: down, converged: time.Hour, faultFor: 3 * time.Minute, answeredAgo: 30 * time.Second,
			want: want{err: true, ready: metav1.ConditionTrue, reconciling: collabv1.ReasonChatServerUnavailable, chatReady: "RoomsReady"},
		},
		"faults for longer than the grace, the server's last answer older than the grace: Ready goes": {
			chatErr: down, converged: time.Hour, faultFor: 5 * time.Minute, answeredAgo: 3 * time.Minute,
			want: want{err: true, ready: metav1.ConditionFalse, reconciling: collabv1.ReasonChatServerUnavailable, chatReady: collabv1.ReasonChatServerUnavailable},
		},
		"faults in every pass for longer than the grace, the space room answering: Ready holds": {
			chatErr: down, converged: time.Hour, faultFor: 3 * time.Minute, spaceRoomAnswers: true,
			want: want{err: true, ready: metav1.ConditionTrue, reconciling: collabv1.ReasonChatServerUnavailable, chatReady: "RoomsReady"},
		},
		"rate limited with a long wait: a requeue, not an error": {
			chatErr: rateLimited{wait: 40 * time.Second},
			want: want{requeue: 40 * time.Second, ready: metav1.ConditionFalse, reconciling: collabv1.ReasonRateLimited,
				chatReady: collabv1.ReasonRateLimited},
		},
		"alias held by someone else: terminal, Stalled": {
			want: want{terminal: true, err: true, ready: metav1.ConditionFalse, stalled: collabv1.ReasonAliasConflict, chatReady: collabv1.ReasonAliasConflict},
		},
		"terminal conflict in chat while the forum is down: the forum is still retried": {
			forumDown: true,
			want: want{err: true, ready: metav1.ConditionFalse, reconciling: collabv1.ReasonAliasConflict,
				chatReady: collabv1.ReasonAliasConflict, forumReady: collabv1.ReasonForumUnavailable},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			space := outcomeSpace(tc.forumDown, tc.converged, tc.faultFor)
			c := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).
				WithObjects(space, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}, chattest.Backend(), chattest.ForumBackend(), chattest.Secret("chat-creds", "accessToken"), chattest.Secret("forum-creds", "token")).
				WithStatusSubresource(&collabv1.CollaborationSpace{}).Build()
			r := &Pass{
				Client: c, APIReader: c, Scheme: testenv.Scheme(), Recorder: events.NewFakeRecorder(20),
				CredentialsNamespace: "collab-system", Chat: &chattest.Connector{C: chatAnswering(tc.chatErr, tc.spaceRoomAnswers)},
				Forums: forum.Engines{&nodebb.Connector{}}, Forum: forumphase.Settings{OperatorNamespace: "collab-system"},
			}
			if tc.answeredAgo > 0 {
				r.answers.Heard(client.ObjectKeyFromObject(space), collabv1.ChatReadyCondition, time.Now().Add(-tc.answeredAgo))
			}
			res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(space)})
			if got := errors.Is(err, reconcile.TerminalError(nil)); got != tc.want.terminal {
				t.Errorf("terminal = %v (%v), want %v", got, err, tc.want.terminal)
			}
			if (err != nil) != tc.want.err {
				t.Errorf("err = %v, want an error: %v", err, tc.want.err)
			}
			if res.RequeueAfter != tc.want.requeue && tc.want.requeue != 0 {
				t.Errorf("RequeueAfter = %s, want %s", res.RequeueAfter, tc.want.requeue)
			}
			got := &collabv1.CollaborationSpace{}
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(space), got); err != nil {
				t.Fatal(err)
			}
			conds := got.Status.Conditions
			check := func(condType, wantReason string, status ...metav1.ConditionStatus) {
				t.Helper()
				c := meta.FindStatusCondition(conds, condType)
				switch {
				case wantReason == "" && c != nil && c.Status == metav1.ConditionTrue:
					t.Errorf("%s = True %s (%s), want it absent", condType, c.Reason, c.Message)
				case wantReason != "" && (c == nil || c.Reason != wantReason):
					t.Errorf("%s = %+v, want reason %s", condType, c, wantReason)
				case len(status) > 0 && c != nil && c.Status != status[0]:
					t.Errorf("%s = %s, want %s", condType, c.Status, status[0])
				}
			}
			if ready := meta.FindStatusCondition(conds, collabv1.ReadyCondition); ready == nil || ready.Status != tc.want.ready {
				t.Errorf("Ready = %+v, want %s", ready, tc.want.ready)
			}
			check(collabv1.ReconcilingCondition, tc.want.reconciling)
			check(collabv1.StalledCondition, tc.want.stalled)
			check(collabv1.ChatReadyCondition, tc.want.chatReady)
			if tc.forumDown {
				check(collabv1.ForumReadyCondition, tc.want.forumReady, metav1.ConditionFalse)
			}
		})
	}
}

// outcomeSpace is a space with one room and, when forum, a place on a shared forum
// that does not answer. converged > 0 makes it Ready since then at its
// generation; faultFor > 0 adds a Reconciling condition that old.
func outcomeSpace(forum bool, converged, faultFor time.Duration) *collabv1.CollaborationSpace {
	space := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "eng", Namespace: "ns", Generation: 1, Finalizers: []string{SpaceFinalizer}},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: "Engineering",
			Members:    []collabv1.Member{{Kind: collabv1.SubjectUser, Name: "alice", Role: collabv1.RoleOwner}},
			Chat:       &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: "chat"}, Rooms: []collabv1.Room{{Name: "general"}}},
		},
	}
	if forum {
		space.Spec.Forum = &collabv1.ForumSpec{BackendRef: &collabv1.LocalObjectReference{Name: "forum"}}
	}
	if converged == 0 {
		return space
	}
	since := metav1.NewTime(time.Now().Add(-converged))
	cond := func(t, reason string) metav1.Condition {
		return metav1.Condition{Type: t, Status: metav1.ConditionTrue, Reason: reason, Message: reason, ObservedGeneration: 1, LastTransitionTime: since}
	}
	space.Status = collabv1.CollaborationSpaceStatus{
		ObservedGeneration: 1,
		Conditions: []metav1.Condition{cond(collabv1.ReadyCondition, "Succeeded"), cond(collabv1.PermissionsReadyCondition, "Bound"),
			cond(collabv1.ChatReadyCondition, "RoomsReady")},
		Chat: &collabv1.ChatStatus{SpaceID: "!space:x", Rooms: []collabv1.RoomStatus{{Name: "general", RoomID: "!general:x"}}},
	}
	if faultFor > 0 {
		rec := cond(collabv1.ReconcilingCondition, collabv1.ReasonChatServerUnavailable)
		rec.LastTransitionTime = metav1.NewTime(time.Now().Add(-faultFor))
		space.Status.Conditions = append(space.Status.Conditions, rec)
	}
	return space
}

// TestPassOutcomeMerge: a pass is terminal only when all its errors are; rate
// limits that said how long become a requeue.
func TestPassOutcomeMerge(t *testing.T) {
	conflict := outcome.Classify(collabv1.ChatReadyCondition, "", fmt.Errorf("x: %w", chat.ErrAliasConflict))
	down := outcome.Classify(collabv1.ForumReadyCondition, "", fmt.Errorf("x: %w", forumUnavailable))
	limited := outcome.Classify(collabv1.ChatReadyCondition, "", rateLimited{wait: 30 * time.Second})
	cases := map[string]struct {
		errs     []*outcome.Error
		wait     time.Duration
		err      bool
		terminal bool
	}{
		"none":                           {},
		"a conflict alone":               {errs: []*outcome.Error{conflict}, err: true, terminal: true},
		"a conflict and a server down":   {errs: []*outcome.Error{conflict, down}, err: true},
		"a rate limit":                   {errs: []*outcome.Error{limited}, wait: 30 * time.Second},
		"a rate limit and a conflict":    {errs: []*outcome.Error{conflict, limited}, wait: 30 * time.Second},
		"a rate limit and a server down": {errs: []*outcome.Error{limited, down}, err: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			wait, err := outcome.Merge(tc.errs)
			if wait != tc.wait || (err != nil) != tc.err || errors.Is(err, reconcile.TerminalError(nil)) != tc.terminal {
				t.Errorf("passOutcome = %s, %v (terminal %v); want %s, error %v, terminal %v",
					wait, err, errors.Is(err, reconcile.TerminalError(nil)), tc.wait, tc.err, tc.terminal)
			}
			for _, e := range tc.errs {
				if err != nil && !strings.Contains(err.Error(), e.Error()) {
					t.Errorf("the pass's error %q does not name %q", err, e)
				}
			}
		})
	}
}

var forumUnavailable = forum.ErrUnavailable
