package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/repo"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

// displayNames is the name the SDK shows (room.name, the hierarchy's name) for
// each room of the test, keyed by "<space>" or "<space>/<room>". Room names are
// decided in one place: change them here.
var displayNames = map[string]string{
	"directory":               directoryName,
	"engineering":             "Engineering",
	"engineering/general":     "Engineering · general",
	"marketing":               "Marketing",
	"marketing/general":       "Marketing · general",
	"marketing/launch-review": "Marketing · launch-review",
	"commons":                 "Commons",
	"commons/lobby":           "Commons · lobby",
}

// clientRoom is a room in the client's room list.
type clientRoom struct {
	ID, Name, Membership string
	Space                bool
}

// hierarchyRoom is a room of a space's hierarchy as the SDK returns it.
type hierarchyRoom struct {
	ID, Name, JoinRule   string
	Space, WorldReadable bool
	Children             []struct {
		ID        string
		Suggested bool
	}
}

// result is what the client showed for one step.
type result struct {
	Do          string
	Rooms       []clientRoom
	Invitations []clientRoom
	Hierarchy   []hierarchyRoom
	Joined      string
}

// step is one thing the person does: rooms, invitations, hierarchy, join, leave.
type step struct {
	Do   string `json:"do"`
	Room string `json:"room,omitempty"`
}

// inClient logs in as name with matrix-js-sdk (person.js) and does the steps, and
// returns what the client showed for each.
func inClient(t *testing.T, name string, steps ...step) []result {
	t.Helper()
	scenario, _ := json.Marshal(map[string]any{
		"homeserver": homeserver.URL, "user": name, "password": password(name), "steps": steps,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "person.js")
	cmd.Dir = clientDir
	cmd.Stdin = bytes.NewReader(scenario)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s's client: %v\n%s\n%s", name, err, stdout.String(), stderr.String())
	}
	t.Logf("%s's client showed:\n%s", name, stdout.String())
	var out struct{ Steps []result }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%s's client printed %q: %v", name, stdout.String(), err)
	}
	return out.Steps
}

// findClient finds node and the installed client library, or says how to get them.
func findClient() error {
	var err error
	if nodeBin, err = exec.LookPath("node"); err != nil {
		return fmt.Errorf("node is not installed; hack/install-prereqs.sh installs it and the client test's packages")
	}
	root, err := repo.Root()
	if err != nil {
		return err
	}
	clientDir = filepath.Join(root, "test", "client")
	if _, err := os.Stat(filepath.Join(clientDir, "node_modules", "matrix-js-sdk")); err != nil {
		return fmt.Errorf("matrix-js-sdk is not installed in test/client; run hack/install-prereqs.sh (npm ci there)")
	}
	return nil
}

// names turns room ids into the test's keys ("marketing/launch-review").
type names map[string]string

func (n names) add(key string, s *collabv1.CollaborationSpace) {
	n[s.Status.Chat.SpaceID] = key
	for _, r := range s.Status.Chat.Rooms {
		n[r.RoomID] = key + "/" + r.Name
	}
}

// list is a room list as "key: name (membership)", in the client's order.
func (n names) list(rooms []clientRoom) []string {
	var out []string
	for _, r := range rooms {
		out = append(out, fmt.Sprintf("%s: %s (%s)", n.key(r.ID), r.Name, r.Membership))
	}
	return out
}

func (n names) key(id string) string {
	if k, ok := n[id]; ok {
		return k
	}
	return id
}

// tree is a hierarchy as "key: name -> child keys".
func (n names) tree(rooms []hierarchyRoom) map[string]string {
	out := map[string]string{}
	for _, r := range rooms {
		var children []string
		for _, c := range r.Children {
			children = append(children, n.key(c.ID))
		}
		slices.Sort(children)
		out[n.key(r.ID)] = fmt.Sprintf("%s -> %v", r.Name, children)
	}
	return out
}

// suggested is which children of space the hierarchy marks as suggested.
func (n names) suggested(rooms []hierarchyRoom, space string) map[string]bool {
	out := map[string]bool{}
	for _, r := range rooms {
		if r.ID != space {
			continue
		}
		for _, c := range r.Children {
			out[n.key(c.ID)] = c.Suggested
		}
	}
	return out
}

// roomNames are the names of a room list.
func roomNames(rooms []clientRoom) []string {
	var out []string
	for _, r := range rooms {
		out = append(out, r.Name)
	}
	return out
}

// entry is "key: name (membership)" as the test expects a room list entry.
func entry(key, membership string) string {
	return fmt.Sprintf("%s: %s (%s)", key, displayNames[key], membership)
}

// node is "name -> children" as the test expects a hierarchy entry.
func node(key string, children ...string) string {
	slices.Sort(children)
	return fmt.Sprintf("%s -> %v", displayNames[key], children)
}

func space(ns, name string, visibility collabv1.Visibility, member string, rooms ...collabv1.Room) *collabv1.CollaborationSpace {
	s := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: collabv1.CollaborationSpaceSpec{
			Department:  strings.ToUpper(name[:1]) + name[1:],
			Description: "Where " + name + " talks",
			Visibility:  visibility,
			Members:     []collabv1.Member{{Kind: collabv1.SubjectUser, Name: "dave", Role: collabv1.RoleOwner}},
			Chat:        &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: chatBackend}, Rooms: rooms},
		},
	}
	if member != "" {
		s.Spec.Members = append(s.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: member, Role: collabv1.RoleMember})
	}
	return s
}

// ready creates the space if new and waits until it is Ready at its generation.
func ready(t *testing.T, s *collabv1.CollaborationSpace) *collabv1.CollaborationSpace {
	t.Helper()
	ctx := context.Background()
	if s.ResourceVersion == "" {
		if err := createNamespace(ctx, s.Namespace); err != nil {
			t.Fatal(err)
		}
		if err := k8s.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	cur := &collabv1.CollaborationSpace{}
	wait.Eventually(t, time.Minute, s.Name+" to be Ready", func() (bool, string) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), cur); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(cur.Status.Conditions, collabv1.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == cur.Generation, fmt.Sprintf("%+v", c)
	})
	return cur
}

// linked waits until the operator's account sees child under parent.
func linked(t *testing.T, what, parent, child string) {
	t.Helper()
	wait.Eventually(t, time.Minute, what, func() (bool, string) {
		rooms, err := operator.HierarchyRooms(context.Background(), parent)
		return err == nil && rooms[parent].Children[child], fmt.Sprintf("%v %v", rooms, err)
	})
}

// Engineering and marketing are departments; marketing is Authoritative and shares
// launch-review with engineering; commons is Open. frank (engineering), erin
// (marketing) and gina (no department) each use a real client.
func TestWhatEachPersonSeesInTheirClient(t *testing.T) {
	ctx := context.Background()
	eng := ready(t, space("engineering", "engineering", collabv1.VisibilityDepartment, "frank", collabv1.Room{Name: "general"}))
	mkt := space("marketing", "marketing", collabv1.VisibilityDepartment, "erin", collabv1.Room{Name: "general"},
		collabv1.Room{Name: "launch-review", SharedWith: []collabv1.SpaceReference{{Namespace: eng.Namespace, Name: eng.Name}}})
	mkt.Spec.MemberPolicy = collabv1.MemberPolicyAuthoritative
	mkt = ready(t, mkt)
	commons := ready(t, space("commons", "commons", collabv1.VisibilityOpen, "", collabv1.Room{Name: "lobby"}))
	backend := &collabv1.ChatBackend{}
	wait.Eventually(t, time.Minute, "the directory space", func() (bool, string) {
		err := k8s.Get(ctx, client.ObjectKey{Name: chatBackend}, backend)
		return err == nil && backend.Status.DirectorySpaceID != "", fmt.Sprint(err)
	})
	dir := backend.Status.DirectorySpaceID
	n := names{dir: "directory"}
	n.add("engineering", eng)
	n.add("marketing", mkt)
	n.add("commons", commons)
	review := mkt.Status.Chat.Rooms[1].RoomID
	linked(t, "launch-review under Engineering's space", eng.Status.Chat.SpaceID, review)
	linked(t, "commons in the directory", dir, commons.Status.Chat.SpaceID)

	t.Run("frank, in engineering, joins launch-review from Engineering's space and stays through Authoritative passes", func(t *testing.T) {
		got := inClient(t, "frank", step{Do: "invitations"}, step{Do: "join", Room: eng.Status.Chat.SpaceID},
			step{Do: "hierarchy", Room: eng.Status.Chat.SpaceID}, step{Do: "join", Room: review}, step{Do: "rooms"})
		// One invitation per space: the rooms are offered inside it.
		if diff := cmp.Diff([]string{entry("engineering", "invite")}, n.list(got[0].Invitations)); diff != "" {
			t.Errorf("frank's invitations (-want +got):\n%s", diff)
		}
		draw(t, view{Person: "frank", Who: "a member of Engineering", Invites: roomNames(got[0].Invitations),
			Space: n.spaceLines(got[2].Hierarchy, eng.Status.Chat.SpaceID),
			Note:  "Marketing · launch-review is shared by Marketing; frank joins it in one step"})
		tree := n.tree(got[2].Hierarchy)
		if diff := cmp.Diff(map[string]bool{"engineering/general": true, "marketing/launch-review": true},
			n.suggested(got[2].Hierarchy, eng.Status.Chat.SpaceID)); diff != "" {
			t.Errorf("rooms Engineering's space suggests to frank (-want +got):\n%s", diff)
		}
		if want := node("engineering", "engineering/general", "marketing/launch-review"); tree["engineering"] != want {
			t.Errorf("Engineering's space shows %q, want %q", tree["engineering"], want)
		}
		if want := node("marketing/launch-review"); tree["marketing/launch-review"] != want {
			t.Errorf("launch-review shows under Engineering as %q, want %q (all: %q)", tree["marketing/launch-review"], want, tree)
		}
		if rooms := n.list(got[4].Rooms); !slices.Contains(rooms, entry("marketing/launch-review", "join")) {
			t.Errorf("after joining, frank's room list is %q, want launch-review joined", rooms)
		}
		for _, pass := range []string{"first pass", "second pass"} {
			mkt.Spec.Chat.Rooms[0].Topic = pass // a new generation: a full Authoritative pass
			if err := k8s.Update(ctx, mkt); err != nil {
				t.Fatal(err)
			}
			mkt = ready(t, mkt)
		}
		after := inClient(t, "frank", step{Do: "rooms"})
		if rooms := n.list(after[0].Rooms); !slices.Contains(rooms, entry("marketing/launch-review", "join")) {
			t.Errorf("after two Authoritative passes of marketing, frank's room list is %q, want launch-review still joined", rooms)
		}
	})

	t.Run("erin, in marketing, sees her department's rooms and not engineering's", func(t *testing.T) {
		got := inClient(t, "erin", step{Do: "invitations"}, step{Do: "join", Room: mkt.Status.Chat.SpaceID},
			step{Do: "hierarchy", Room: mkt.Status.Chat.SpaceID})
		if diff := cmp.Diff([]string{entry("marketing", "invite")}, n.list(got[0].Invitations)); diff != "" {
			t.Errorf("erin's invitations (-want +got):\n%s", diff)
		}
		draw(t, view{Person: "erin", Who: "a member of Marketing", Invites: roomNames(got[0].Invitations),
			Space: n.spaceLines(got[2].Hierarchy, mkt.Status.Chat.SpaceID)})
		tree := n.tree(got[2].Hierarchy)
		if want := node("marketing", "marketing/general", "marketing/launch-review"); tree["marketing"] != want {
			t.Errorf("Marketing's space shows %q, want %q", tree["marketing"], want)
		}
	})

	// Dendrite 0.13 answers /hierarchy to someone not in a space with that space
	// alone (it walks no children for non-members: query_room_hierarchy.go, "don't
	// walk children if the user is not joined/invited to the space"), so gina sees
	// the directory's links, then opens each Open space to see its rooms.
	t.Run("gina, in no department, browses the directory and the Open space without joining, then joins its room", func(t *testing.T) {
		got := inClient(t, "gina", step{Do: "hierarchy", Room: dir}, step{Do: "hierarchy", Room: commons.Status.Chat.SpaceID},
			step{Do: "rooms"}, step{Do: "join", Room: commons.Status.Chat.Rooms[0].RoomID}, step{Do: "rooms"})
		draw(t, view{Person: "gina", Who: "in no department", Invites: nil,
			Space: append(n.spaceLines(got[0].Hierarchy, dir), n.spaceLines(got[1].Hierarchy, commons.Status.Chat.SpaceID)...),
			Note:  "gina browses the directory, then the Open space, without joining either"})
		if diff := cmp.Diff(map[string]string{"directory": node("directory", "commons")}, n.tree(got[0].Hierarchy)); diff != "" {
			t.Errorf("the directory as gina sees it (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"commons": node("commons", "commons/lobby")}, n.tree(got[1].Hierarchy)); diff != "" {
			t.Errorf("the Open space as gina sees it (-want +got):\n%s", diff)
		}
		if rooms := n.list(got[2].Rooms); len(rooms) != 0 {
			t.Errorf("browsing put gina in %q, want no rooms", rooms)
		}
		if diff := cmp.Diff([]string{entry("commons/lobby", "join")}, n.list(got[4].Rooms)); diff != "" {
			t.Errorf("gina's room list after joining the Open space's room in one step (-want +got):\n%s", diff)
		}
	})
}
