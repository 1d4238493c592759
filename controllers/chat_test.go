package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
	"github.com/opencommons/collab-operator/internal/spacepass"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
	"github.com/opencommons/collab-operator/internal/testing/writecount"
)

// chatSpace returns a space on the test backend whose members are the test users:
// dave owns it, carol moderates, alice is a member.
func chatSpace(ns, name string, visibility collabv1.Visibility, rooms ...collabv1.Room) *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: collabv1.CollaborationSpaceSpec{
			Department:  strings.ToUpper(name[:1]) + name[1:],
			Description: "Where " + name + " talks",
			Visibility:  visibility,
			Members: []collabv1.Member{
				{Kind: collabv1.SubjectUser, Name: "dave", Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectUser, Name: "carol", Role: collabv1.RoleModerator},
				{Kind: collabv1.SubjectUser, Name: "alice", Role: collabv1.RoleMember},
			},
			Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: testBackend}, Rooms: rooms},
		},
	}
}

// joinFromSpace joins a room of space as a member does in a client: accept the
// invitation to the space, then join the room it offers, in one step.
func joinFromSpace(ctx context.Context, u *matrixuser.User, space *collabv1.CollaborationSpace, roomID string) error {
	if err := u.Join(ctx, space.Status.Chat.SpaceID); err != nil {
		return fmt.Errorf("joining the space: %w", err)
	}
	return u.Join(ctx, roomID)
}

// roomID returns the id of a room from the space's status.
func roomID(t *testing.T, space *collabv1.CollaborationSpace, name string) string {
	t.Helper()
	for _, r := range space.Status.Chat.Rooms {
		if r.Name == name {
			return r.RoomID
		}
	}
	t.Fatalf("room %s not in status %+v", name, space.Status.Chat)
	return ""
}

// forbidden reports whether Matrix refused the request for lack of rights.
func forbidden(err error) bool {
	var e *matrixuser.Error
	return errors.As(err, &e) && e.Code == "M_FORBIDDEN"
}

// refusedJoin checks that a join was refused and left the user outside the room.
// Dendrite v0.13.8 answers a join that fails a restricted rule with a bare 500
// rather than M_FORBIDDEN, so the membership the room records is what counts.
func refusedJoin(t *testing.T, ctx context.Context, who *matrixuser.User, room string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s joined %s, want the join refused", who.ID, room)
		return
	}
	var member struct {
		Membership string `json:"membership"`
	}
	stateErr := operator.State(ctx, room, "m.room.member/"+who.ID, &member)
	if stateErr == nil && member.Membership == "join" {
		t.Errorf("%s is joined to %s although the join answered %v", who.ID, room, err)
	}
}

func TestRoomsAsMembersSeeThem(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	space := chatSpace(ns, "hardware", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "general", Topic: "Everything hardware"},
		collabv1.Room{Name: "announcements", Posting: collabv1.PostingOwners})
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))

	spaceID := space.Status.Chat.SpaceID
	general, announcements := roomID(t, space, "general"), roomID(t, space, "announcements")
	alias := "#" + ns + ".hardware.general:" + homeserver.ServerName
	if got, err := operator.ResolveAlias(ctx, alias); err != nil || got != general {
		t.Fatalf("alias %s resolves to %q (%v), want %s", alias, got, err, general)
	}

	alice := person(t, "alice")
	if err := alice.Join(ctx, spaceID); err != nil {
		t.Fatalf("alice cannot join her department's space: %v", err)
	}
	rooms, err := alice.Hierarchy(ctx, spaceID)
	if err != nil || !rooms[general] || !rooms[announcements] {
		t.Fatalf("alice sees %v in the space (%v), want general and announcements", rooms, err)
	}
	if err := alice.Join(ctx, general); err != nil {
		t.Fatalf("alice cannot join general: %v", err)
	}
	if err := alice.Send(ctx, general, "hello hardware"); err != nil {
		t.Errorf("alice cannot post in general: %v", err)
	}
	if err := alice.Join(ctx, announcements); err != nil {
		t.Fatalf("alice cannot join announcements: %v", err)
	}
	if err := alice.Send(ctx, announcements, "me too"); !forbidden(err) {
		t.Errorf("a Member posting in an announcement room got %v, want M_FORBIDDEN", err)
	}
	bob := person(t, "bob")
	refusedJoin(t, ctx, bob, general, bob.Join(ctx, general))

	var levels struct {
		Users map[string]int `json:"users"`
	}
	if err := alice.State(ctx, general, "m.room.power_levels", &levels); err != nil {
		t.Fatal(err)
	}
	// The operator alone holds 100; the Owner sits at 90, below it.
	want := map[string]int{person(t, "dave").ID: 90, person(t, "carol").ID: 50, operator.ID: 100}
	for user, level := range want {
		if levels.Users[user] != level {
			t.Errorf("power level of %s = %d, want %d (all: %v)", user, levels.Users[user], level, levels.Users)
		}
	}
}

func TestSharedRoomAdmitsTheOtherDepartment(t *testing.T) {
	ctx := testCtx(t)
	design := chatSpace(newNamespace(t), "design", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	design.Spec.Members = append(design.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: "bob"})
	createSpace(t, design)
	design = waitReady(t, client.ObjectKeyFromObject(design))

	eng := chatSpace(newNamespace(t), "firmware", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "general"},
		collabv1.Room{Name: "design-sync", SharedWith: []collabv1.SpaceReference{{Namespace: design.Namespace, Name: design.Name}}})
	createSpace(t, eng)
	eng = waitReady(t, client.ObjectKeyFromObject(eng))

	bob := person(t, "bob")
	if err := bob.Join(ctx, design.Status.Chat.SpaceID); err != nil {
		t.Fatalf("bob cannot join his own department's space: %v", err)
	}
	if err := bob.Join(ctx, roomID(t, eng, "design-sync")); err != nil {
		t.Errorf("bob cannot join a room shared with his department: %v", err)
	}
	engGeneral := roomID(t, eng, "general")
	refusedJoin(t, ctx, bob, engGeneral, bob.Join(ctx, engGeneral))
}

// TestASpaceWaitingForASharedSpaceIsWokenByIt: rooms shared with a department that
// has no chat space yet wait for it; when it appears, the shared room admits its
// members without waiting for the sharing space's next poll (which is minutes away).
func TestASpaceWaitingForASharedSpaceIsWokenByIt(t *testing.T) {
	ctx := testCtx(t)
	lateNS, earlyNS := newNamespace(t), newNamespace(t)
	early := chatSpace(earlyNS, "early", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "sync", SharedWith: []collabv1.SpaceReference{{Namespace: lateNS, Name: "late"}}})
	createSpace(t, early)
	eventually(t, "early to wait for late", func() (bool, string) {
		got := getSpace(t, early)
		c := meta.FindStatusCondition(got.Status.Conditions, collabv1.ChatReadyCondition)
		return c != nil && c.Reason == "SharedSpacePending", fmt.Sprintf("%+v", c)
	})
	late := chatSpace(lateNS, "late", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	createSpace(t, late)
	late = waitReady(t, client.ObjectKeyFromObject(late))
	early = waitReady(t, client.ObjectKeyFromObject(early))
	var rules struct {
		Allow []struct {
			RoomID string `json:"room_id"`
		} `json:"allow"`
	}
	if err := operator.State(ctx, roomID(t, early, "sync"), "m.room.join_rules", &rules); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rules.Allow, func(a struct {
		RoomID string `json:"room_id"`
	}) bool {
		return a.RoomID == late.Status.Chat.SpaceID
	}) {
		t.Errorf("the shared room admits %+v, want late's space %s among them", rules.Allow, late.Status.Chat.SpaceID)
	}
}

func TestOpenSpaceIsListedInTheDirectory(t *testing.T) {
	ctx := testCtx(t)
	space := chatSpace(newNamespace(t), "outreach", collabv1.VisibilityOpen, collabv1.Room{Name: "general"})
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))

	// erin is in no department at all.
	erin := person(t, "erin")
	if err := erin.Join(ctx, roomID(t, space, "general")); err != nil {
		t.Errorf("erin cannot join a room of an Open space: %v", err)
	}
	backend := &collabv1.ChatBackend{}
	eventually(t, "the directory to list the space", func() (bool, string) {
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: testBackend}, backend); err != nil {
			return false, err.Error()
		}
		if backend.Status.DirectorySpaceID == "" {
			return false, "no directory space yet"
		}
		if err := erin.Join(ctx, backend.Status.DirectorySpaceID); err != nil {
			return false, "cannot join the directory: " + err.Error()
		}
		rooms, err := erin.Hierarchy(ctx, backend.Status.DirectorySpaceID)
		return err == nil && rooms[space.Status.Chat.SpaceID], fmt.Sprintf("%v %v", rooms, err)
	})
}

// gina is in no department and has joined nothing: she browses the directory as
// Element's Explore does, sees the Open space and, one level down, its rooms,
// and joins one in one step, without ever joining the directory or the space.
func TestAnyoneBrowsesTheDirectoryWithoutJoiningIt(t *testing.T) {
	ctx := testCtx(t)
	space := chatSpace(newNamespace(t), "bazaar", collabv1.VisibilityOpen, collabv1.Room{Name: "general"})
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	general := roomID(t, space, "general")

	gina := person(t, "gina")
	backend := &collabv1.ChatBackend{}
	eventually(t, "gina to see the Open space in the directory", func() (bool, string) {
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: testBackend}, backend); err != nil {
			return false, err.Error()
		}
		dir := backend.Status.DirectorySpaceID
		if dir == "" {
			return false, "no directory space yet"
		}
		rooms, err := gina.HierarchyRooms(ctx, dir)
		return err == nil && rooms[dir].Children[space.Status.Chat.SpaceID], fmt.Sprintf("%v %v", rooms, err)
	})
	rooms, err := gina.HierarchyRooms(ctx, space.Status.Chat.SpaceID)
	if err != nil {
		t.Fatalf("gina cannot browse the Open space: %v", err)
	}
	if got := rooms[space.Status.Chat.SpaceID]; got.Name != "Bazaar" || !got.Children[general] {
		t.Errorf("gina sees the Open space as %+v, want it named Bazaar listing general %s", got, general)
	}
	if err := gina.Join(ctx, general); err != nil {
		t.Errorf("gina cannot join the Open space's room in one step: %v", err)
	}
	joined, err := gina.JoinedRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(joined, backend.Status.DirectorySpaceID) || slices.Contains(joined, space.Status.Chat.SpaceID) {
		t.Errorf("browsing joined gina to the directory or the space: %v", joined)
	}
}

func TestATopicChangedByHandIsPutBack(t *testing.T) {
	ctx := testCtx(t)
	space := chatSpace(newNamespace(t), "quality", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "general", Topic: "Quality first"})
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	general := roomID(t, space, "general")

	dave := person(t, "dave") // an owner, who may change the topic in Matrix
	if err := dave.Join(ctx, space.Status.Chat.SpaceID); err != nil {
		t.Fatal(err)
	}
	if err := dave.Join(ctx, general); err != nil {
		t.Fatal(err)
	}
	if err := dave.SetTopic(ctx, general, "changed by hand"); err != nil {
		t.Fatal(err)
	}
	// Put back within one poll interval (plus a pass).
	eventually(t, "the topic to be put back", func() (bool, string) {
		var topic struct {
			Topic string `json:"topic"`
		}
		err := dave.State(ctx, general, "m.room.topic", &topic)
		return err == nil && topic.Topic == "Quality first", fmt.Sprintf("topic %q %v", topic.Topic, err)
	})
	eventually(t, "a Drifted condition naming the topic", func() (bool, string) {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(space), space); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(space.Status.Conditions, collabv1.DriftedCondition)
		return c != nil && strings.Contains(c.Message, "topic"), fmt.Sprint(c)
	})
}

func TestAServerThatIsDownIsReportedAndOthersGoOn(t *testing.T) {
	ctx := testCtx(t)
	down := &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: "down"},
		Spec: collabv1.ChatBackendSpec{Matrix: &collabv1.MatrixBackend{
			HomeserverURL:        "http://127.0.0.1:1", // nothing listens there
			ServerName:           "down.example",
			CredentialsSecretRef: collabv1.SecretReference{Namespace: "collab-system", Name: "matrix-credentials"},
		}},
	}
	if err := k8sClient.Create(ctx, down); err != nil {
		t.Fatal(err)
	}
	stuck := chatSpace(newNamespace(t), "legal", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	stuck.Spec.Chat.BackendRef.Name = "down"
	createSpace(t, stuck)
	fine := chatSpace(newNamespace(t), "sales", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	createSpace(t, fine)

	waitReady(t, client.ObjectKeyFromObject(fine))
	eventually(t, "ChatReady=False with a reason", func() (bool, string) {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(stuck), stuck); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(stuck.Status.Conditions, collabv1.ChatReadyCondition)
		r := meta.FindStatusCondition(stuck.Status.Conditions, collabv1.ReconcilingCondition)
		return c != nil && c.Reason == "ChatServerUnavailable" && r != nil && r.Status == metav1.ConditionTrue,
			fmt.Sprint(stuck.Status.Conditions)
	})
	eventually(t, "the backend to say it is unreachable", func() (bool, string) {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(down), down); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(down.Status.Conditions, collabv1.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == "ChatServerUnavailable", fmt.Sprint(c)
	})
}

func TestArchiveKeepsHistoryReadable(t *testing.T) {
	ctx := testCtx(t)
	space := chatSpace(newNamespace(t), "archive", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	general := roomID(t, space, "general")

	alice := person(t, "alice")
	for _, room := range []string{space.Status.Chat.SpaceID, general} {
		if err := alice.Join(ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	if err := alice.Send(ctx, general, "a decision worth keeping"); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Delete(ctx, space); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the space to be gone", func() (bool, string) {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(space), space)
		return client.IgnoreNotFound(err) == nil && err != nil, fmt.Sprint(err)
	})

	var name struct {
		Name string `json:"name"`
	}
	if err := alice.State(ctx, general, "m.room.name", &name); err != nil || !strings.HasPrefix(name.Name, "[archived]") {
		t.Errorf("room name %q (%v), want it marked [archived]", name.Name, err)
	}
	eventually(t, "alice to still read the history", func() (bool, string) {
		msgs, err := alice.Messages(ctx, general)
		return err == nil && slices.Contains(msgs, "a decision worth keeping"), fmt.Sprintf("%v %v", msgs, err)
	})
	if err := alice.Send(ctx, general, "anyone?"); !forbidden(err) {
		t.Errorf("posting in an archived room got %v, want M_FORBIDDEN", err)
	}
	erin := person(t, "erin")
	refusedJoin(t, ctx, erin, general, erin.Join(ctx, general))
}

// TestACrashBetweenCreateAndStatusLeavesNoDuplicate recreates what a manager killed in
// the middle of a pass leaves behind: the space room and one of two rooms made on
// Matrix, nothing recorded in status. The next pass must adopt them.
func TestACrashBetweenCreateAndStatusLeavesNoDuplicate(t *testing.T) {
	ctx := testCtx(t)
	space := chatSpace(newNamespace(t), "crashy", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "general"}, collabv1.Room{Name: "random"})

	// The pass before the crash, with the operator's own account.
	c, err := matrix.New(matrix.Config{HomeserverURL: homeserver.URL, ServerName: homeserver.ServerName, AccessToken: operator.Token()})
	if err != nil {
		t.Fatal(err)
	}
	planner := plan.New(plan.Config{ServerName: homeserver.ServerName})
	in := chat.DesiredInput{OperatorUserID: operator.ID}
	layout, err := planner.Layout(space, in)
	if err != nil {
		t.Fatal(err)
	}
	spaceSpec := layout.SpaceRoom
	spaceRoom, err := c.Create(ctx, spaceSpec)
	if err != nil {
		t.Fatal(err)
	}
	rooms, err := layout.Rooms(spaceRoom.RoomID)
	if err != nil {
		t.Fatal(err)
	}
	general, err := c.Create(ctx, rooms[0])
	if err != nil {
		t.Fatal(err)
	}

	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	if space.Status.Chat.SpaceID != spaceRoom.RoomID || roomID(t, space, "general") != general.RoomID {
		t.Errorf("status %+v did not adopt the rooms made before the crash (space %s, general %s)",
			space.Status.Chat, spaceRoom.RoomID, general.RoomID)
	}
	owned := roomsOwnedBy(t, ctx, space)
	if len(owned) != 3 {
		t.Errorf("the operator holds %d rooms for the space, want exactly 3 (space, general, random): %v", len(owned), owned)
	}
}

// roomsOwnedBy lists the rooms the operator is in that carry the space's owner marker.
func roomsOwnedBy(t *testing.T, ctx context.Context, space *collabv1.CollaborationSpace) []string {
	t.Helper()
	joined, err := operator.JoinedRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var owned []string
	for _, id := range joined {
		var marker map[string]any
		if err := operator.State(ctx, id, chat.OwnerEventType, &marker); err != nil {
			continue
		}
		if fmt.Sprint(marker["owner"]) == space.Namespace+"/"+space.Name {
			owned = append(owned, id)
		}
	}
	return owned
}

// TestSteadyStateChatMakesNoWrites runs a second reconciler over a Ready space with
// rooms: it must read Matrix and write nothing, there or to the API server.
func TestSteadyStateChatMakesNoWrites(t *testing.T) {
	space := chatSpace(newNamespace(t), "steady", collabv1.VisibilityOpen,
		collabv1.Room{Name: "general", Topic: "t"}, collabv1.Room{Name: "news", Posting: collabv1.PostingOwners})
	createSpace(t, space)
	waitReady(t, client.ObjectKeyFromObject(space))

	var reads, writes atomic.Int64
	connector := &matrix.Connector{Observer: func(method, _ string, _ int, _ time.Duration) {
		if method == http.MethodGet {
			reads.Add(1)
		} else {
			writes.Add(1)
		}
	}}
	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	counter := &writecount.Counter{}
	r := &spacepass.Pass{
		Client: counter.Wrap(direct), Scheme: testenv.Scheme(),
		Recorder: events.NewFakeRecorder(10), Chat: connector, CredentialsNamespace: operatorNamespace,
	}
	if _, err := r.Reconcile(testCtx(t), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(space)}); err != nil {
		t.Fatal(err)
	}
	if writes.Load() != 0 || len(counter.Writes()) != 0 {
		t.Errorf("a steady-state pass made %d Matrix writes and API writes %v", writes.Load(), counter.Writes())
	}
	if reads.Load() == 0 {
		t.Errorf("the pass read nothing from Matrix: it did not look at the rooms at all")
	}
	t.Logf("steady-state pass over 3 rooms: %d Matrix reads, 0 writes", reads.Load())
}

// TestRemovedRoomsAreArchived: a room dropped from the spec, and then every room,
// is archived by the default deletion policy, never silently left behind.
func TestRemovedRoomsAreArchived(t *testing.T) {
	ctx := testCtx(t)
	space := chatSpace(newNamespace(t), "retiring", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "general"}, collabv1.Room{Name: "old"})
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	old, general, spaceID := roomID(t, space, "old"), roomID(t, space, "general"), space.Status.Chat.SpaceID

	archived := func(room string) func() (bool, string) {
		return func() (bool, string) {
			var name struct {
				Name string `json:"name"`
			}
			err := operator.State(ctx, room, "m.room.name", &name)
			return err == nil && strings.HasPrefix(name.Name, "[archived]"), fmt.Sprintf("%q %v", name.Name, err)
		}
	}
	patch := client.MergeFrom(space.DeepCopy())
	space.Spec.Chat.Rooms = space.Spec.Chat.Rooms[:1]
	if err := k8sClient.Patch(ctx, space, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the dropped room to be archived", archived(old))

	patch = client.MergeFrom(space.DeepCopy())
	space.Spec.Chat.Rooms = nil
	if err := k8sClient.Patch(ctx, space, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every room and the space to be archived", func() (bool, string) {
		for _, room := range []string{general, spaceID} {
			if ok, why := archived(room)(); !ok {
				return false, room + ": " + why
			}
		}
		return true, ""
	})
	space = waitReady(t, client.ObjectKeyFromObject(space))
	if space.Status.Chat != nil {
		t.Errorf("status.chat = %+v after every room was archived, want none", space.Status.Chat)
	}
}
