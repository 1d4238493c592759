package stream

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	chatfake "github.com/opencommons/collab-operator/internal/chat/fake"
	"github.com/opencommons/collab-operator/internal/spaceindex"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

// scriptedSyncer answers Sync calls from a script and records the positions it
// was asked to resume from.
type scriptedSyncer struct {
	chatfake.Client
	mu      sync.Mutex
	sinces  []string
	answers []func() (chat.SyncBatch, error)
}

func (s *scriptedSyncer) Sync(ctx context.Context, since string, _ time.Duration) (chat.SyncBatch, error) {
	s.mu.Lock()
	s.sinces = append(s.sinces, since)
	var next func() (chat.SyncBatch, error)
	if len(s.answers) > 0 {
		next, s.answers = s.answers[0], s.answers[1:]
	}
	s.mu.Unlock()
	if next == nil {
		<-ctx.Done() // nothing more happens: a long poll that never returns
		return chat.SyncBatch{}, ctx.Err()
	}
	return next()
}

func (s *scriptedSyncer) since() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sinces...)
}

// TestSyncStreamResumesAndWakesOwners: after a restart the stream resumes from the
// position saved in the backend's status, so a change made while the operator was
// down is delivered; each changed room wakes the space that owns it; a position
// the server forgot restarts the stream and wakes every space; a failure turns the
// stream unhealthy and wakes the backend to say so.
func TestSyncStreamResumesAndWakesOwners(t *testing.T) {
	owner := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "eng", Namespace: "ns"},
		Spec:       collabv1.CollaborationSpaceSpec{Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: "chat"}}},
		Status:     collabv1.CollaborationSpaceStatus{Chat: &collabv1.ChatStatus{SpaceID: "!space", Rooms: []collabv1.RoomStatus{{Name: "general", RoomID: "!general"}}}},
	}
	other := owner.DeepCopy()
	other.Name, other.Status.Chat = "ops", &collabv1.ChatStatus{SpaceID: "!ops"}
	// A space of another backend on the same server and account records the room
	// too (as a shared room would): that backend's own stream wakes it, not this one.
	sibling := owner.DeepCopy()
	sibling.Name, sibling.Spec.Chat.BackendRef.Name = "sib", "reserved"
	c := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).
		WithObjects(owner, other, sibling, &collabv1.ChatBackend{ObjectMeta: metav1.ObjectMeta{Name: "chat"}}).
		WithStatusSubresource(&collabv1.ChatBackend{}).
		WithIndex(&collabv1.CollaborationSpace{}, spaceindex.Rooms, spaceindex.RoomsOf).
		WithIndex(&collabv1.CollaborationSpace{}, spaceindex.ChatBackend, spaceindex.ChatBackendOf).Build()

	syncer := &scriptedSyncer{answers: []func() (chat.SyncBatch, error){
		func() (chat.SyncBatch, error) { return chat.SyncBatch{Next: "t2", Changed: []string{"!general"}}, nil },
		func() (chat.SyncBatch, error) {
			return chat.SyncBatch{}, fmt.Errorf("gone: %w", chat.ErrUnknownPosition)
		},
		func() (chat.SyncBatch, error) { return chat.SyncBatch{Next: "t3"}, nil },
		func() (chat.SyncBatch, error) { return chat.SyncBatch{}, fmt.Errorf("down: %w", chat.ErrUnavailable) },
	}}
	streams := New(c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = streams.Start(ctx) }()
	wait.Eventually(t, 30*time.Second, "the streams to start", func() (bool, string) {
		return streams.Ensure("chat", syncer, "saved-before-restart"), "not started"
	})

	woken := func() string {
		select {
		case e := <-streams.Spaces:
			return client.ObjectKeyFromObject(e.Object).String()
		case <-time.After(10 * time.Second):
			return "(nothing)"
		}
	}
	if got := woken(); got != "ns/eng" {
		t.Errorf("a change in !general woke %s, want ns/eng", got)
	}
	// The forgotten position wakes every space on the backend.
	got := map[string]bool{woken(): true, woken(): true}
	if !got["ns/eng"] || !got["ns/ops"] {
		t.Errorf("a lost position woke %v, want every space of the backend (and before it, the change only ns/eng)", got)
	}
	select {
	case <-streams.Backends:
	case <-time.After(10 * time.Second):
		t.Error("the backend was not woken when its stream started or failed")
	}
	wait.Eventually(t, 30*time.Second, "the stream to report the failure", func() (bool, string) {
		healthy, lastErr := streams.Status("chat")
		return !healthy && lastErr != "", fmt.Sprintf("healthy=%v %q", healthy, lastErr)
	})
	if s := syncer.since(); len(s) < 4 || s[0] != "saved-before-restart" || s[1] != "t2" || s[2] != "" || s[3] != "t3" {
		t.Errorf("Sync resumed from %q, want the saved position, then t2, then from now after the loss, then t3", s)
	}
}

// TestSyncStreamEpochs: a checkpoint (resume.go) is trusted only within one
// epoch, so the epoch must move on whenever a room may have changed unseen — a
// change reported (before its owner is woken) or a failure — and stay put while
// the stream runs and reports nothing.
func TestSyncStreamEpochs(t *testing.T) {
	owner := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "eng", Namespace: "ns"},
		Spec:       collabv1.CollaborationSpaceSpec{Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: "chat"}}},
		Status:     collabv1.CollaborationSpaceStatus{Chat: &collabv1.ChatStatus{SpaceID: "!space", Rooms: []collabv1.RoomStatus{{Name: "general", RoomID: "!general"}}}},
	}
	c := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(owner).
		WithIndex(&collabv1.CollaborationSpace{}, spaceindex.Rooms, spaceindex.RoomsOf).Build()
	gate := make(chan struct{})
	syncer := &scriptedSyncer{answers: []func() (chat.SyncBatch, error){
		func() (chat.SyncBatch, error) { return chat.SyncBatch{Next: "t1"}, nil },
		func() (chat.SyncBatch, error) { <-gate; return chat.SyncBatch{Next: "t2"}, nil },
		func() (chat.SyncBatch, error) {
			<-gate
			return chat.SyncBatch{Next: "t3", Changed: []string{"!general"}}, nil
		},
		func() (chat.SyncBatch, error) {
			<-gate
			return chat.SyncBatch{}, fmt.Errorf("down: %w", chat.ErrUnavailable)
		},
	}}
	streams := New(c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = streams.Start(ctx) }()
	if _, ok := streams.Epoch("chat"); ok {
		t.Fatal("Epoch vouches for a backend whose stream has not started")
	}
	wait.Eventually(t, 30*time.Second, "the streams to start", func() (bool, string) { return streams.Ensure("chat", syncer, ""), "not started" })
	var first uint64
	wait.Eventually(t, 30*time.Second, "the stream to deliver", func() (bool, string) {
		e, ok := streams.Epoch("chat")
		first = e
		return ok, "not healthy"
	})

	gate <- struct{}{} // a batch with no change
	gate <- struct{}{} // is taken once it has been handled; then a change is reported
	select {
	case <-streams.Spaces:
	case <-time.After(10 * time.Second):
		t.Fatal("the change woke nobody")
	}
	if e, ok := streams.Epoch("chat"); !ok || e != first+1 {
		t.Errorf("after a quiet batch and a change, Epoch = %d, %v; want %d: the quiet batch keeps it, the change moves it on", e, ok, first+1)
	}
	// Only the room that changed is to be read again; the space room was not.
	if !streams.ChangedSince("chat", first, "!general") || streams.ChangedSince("chat", first, "!space") {
		t.Errorf("ChangedSince(%d): general %v, space %v; want general only", first,
			streams.ChangedSince("chat", first, "!general"), streams.ChangedSince("chat", first, "!space"))
	}
	gate <- struct{}{} // a failure
	wait.Eventually(t, 30*time.Second, "the failure to end what the stream vouches for", func() (bool, string) {
		_, ok := streams.Epoch("chat")
		return !ok, "still healthy"
	})
	if !streams.ChangedSince("chat", first+1, "!space") {
		t.Error("after a failure, a room the stream reported nothing of counts as unchanged; any room may have changed unseen")
	}
}
