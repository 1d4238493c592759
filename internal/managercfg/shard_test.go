package managercfg_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers/chatbackend"
	"github.com/opencommons/collab-operator/controllers/chatbackend/reaper"
	"github.com/opencommons/collab-operator/controllers/chatbackend/stream"
	"github.com/opencommons/collab-operator/controllers/peopledirectory"
	"github.com/opencommons/collab-operator/internal/chat"
	chatfake "github.com/opencommons/collab-operator/internal/chat/fake"
	"github.com/opencommons/collab-operator/internal/directory"
	"github.com/opencommons/collab-operator/internal/managercfg"
	"github.com/opencommons/collab-operator/internal/spaceindex"
	"github.com/opencommons/collab-operator/internal/testing/chattest"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// shardedSpace is a space on backend "chat" recording the given rooms, with the
// shard label when shard is not "".
func shardedSpace(ns, shard string, rooms ...string) *collabv1.CollaborationSpace {
	s := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dept"},
		Spec: collabv1.CollaborationSpaceSpec{Visibility: collabv1.VisibilityOpen,
			Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: "chat"}}},
		Status: collabv1.CollaborationSpaceStatus{Chat: &collabv1.ChatStatus{SpaceID: "!space-" + ns + ":x"}},
	}
	if shard != "" {
		s.Labels = map[string]string{collabv1.ShardLabel: shard}
	}
	for _, id := range rooms {
		s.Status.Chat.Rooms = append(s.Status.Chat.Rooms, collabv1.RoomStatus{Name: "general", RoomID: id})
	}
	return s
}

// shardCache is what a manager's cache with the selector holds of objs (spaces
// matching it, everything else), with the spaces' field indexes.
func shardCache(sel labels.Selector, objs ...client.Object) client.Client {
	var kept []client.Object
	for _, o := range objs {
		if _, isSpace := o.(*collabv1.CollaborationSpace); !isSpace || sel.Matches(labels.Set(o.GetLabels())) {
			kept = append(kept, o)
		}
	}
	b := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(kept...)
	for field, index := range spaceindex.Funcs {
		b = b.WithIndex(&collabv1.CollaborationSpace{}, field, index)
	}
	return b.Build()
}

// TestTheReaperOfAShardedManagerKnowsEveryShardsRooms: the manager that runs the
// backends in a sharded operator caches only its own shard's spaces (here the
// main manager's, the spaces without a shard label). Its reaper decides a room is
// unrecorded when no space records it, so it must read the spaces of every
// shard: a room shard-b's space records, whose alias an Owner pointed at another
// room of that space and which nobody else ever joined, looks exactly like the
// duplicate an interrupted create leaves, and would be deleted. The same room
// recorded by no space is deleted, which shows the pass would.
func TestTheReaperOfAShardedManagerKnowsEveryShardsRooms(t *testing.T) {
	const operator = "@op:x"
	sel, err := managercfg.ParseShardSelector("!" + collabv1.ShardLabel)
	if err != nil {
		t.Fatal(err)
	}
	objs := []client.Object{
		shardedSpace("main-ns", "", "!main:x"),
		shardedSpace("b-ns", "shard-b", "!b-general:x"),
	}
	old := time.Now().Add(-time.Hour)
	// Both look like an unused duplicate of b-ns/dept's room general: the alias
	// holds another room of that space.
	rooms := map[string]*chat.ObservedRoom{}
	for _, id := range []string{"!b-general:x", "!stray:x", "!keeper:x"} {
		rooms[id] = &chat.ObservedRoom{RoomID: id, Creator: operator, OwnerSender: operator, Owner: "b-ns/dept",
			CanonicalAlias: "#b-ns.dept.general:x", Created: old, Members: map[string]chat.Membership{operator: chat.MembershipJoin}}
	}
	var deleted []string
	fake := &chattest.Listing{Joined: []string{"!main:x", "!b-general:x", "!stray:x", "!keeper:x"}, Client: chatfake.Client{
		ObserveIDFn:    func(_ context.Context, id string) (*chat.ObservedRoom, error) { return rooms[id], nil },
		ResolveAliasFn: func(context.Context, string) (string, error) { return "!keeper:x", nil },
		DeleteFn: func(_ context.Context, id string) error {
			deleted = append(deleted, id)
			return nil
		},
	}}
	backend := chattest.Backend()
	live := shardCache(labels.Everything(), objs...)
	r := &reaper.Reaper{Client: managercfg.AllShards(shardCache(sel, objs...), live, sel), Recorder: events.NewFakeRecorder(10),
		Grace: time.Minute, Interval: time.Nanosecond}
	if err := r.Reap(context.Background(), chattest.Conn(backend, fake), backend); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"!stray:x"}, deleted); diff != "" {
		t.Errorf("rooms the reaper deleted (-want +got): %s\nshard-b's space records !b-general:x", diff)
	}
}

// TestAShardedManagersBackendsListEveryShardsSpaces: the directory of Open
// spaces and the backend protection list the spaces of a backend by the cache's
// field index; across shards the API server, which indexes no spec field, is
// read and the index applied to what it returns.
func TestAShardedManagersBackendsListEveryShardsSpaces(t *testing.T) {
	sel := labels.SelectorFromSet(labels.Set{collabv1.ShardLabel: "shard-a"})
	other := shardedSpace("c-ns", "shard-b")
	other.Spec.Chat.BackendRef.Name = "other"
	objs := []client.Object{shardedSpace("a-ns", "shard-a"), shardedSpace("b-ns", "shard-b"), shardedSpace("main-ns", ""), other}
	live := shardCache(labels.Everything(), objs...)
	tests := map[string]struct {
		opts []client.ListOption
		want []string
	}{
		"every space":              {want: []string{"a-ns", "b-ns", "c-ns", "main-ns"}},
		"by backend":               {opts: []client.ListOption{client.MatchingFields{spaceindex.ChatBackend: "chat"}}, want: []string{"a-ns", "b-ns", "main-ns"}},
		"by room":                  {opts: []client.ListOption{client.MatchingFields{spaceindex.Rooms: "!space-b-ns:x"}}, want: []string{"b-ns"}},
		"by backend, in namespace": {opts: []client.ListOption{client.MatchingFields{spaceindex.ChatBackend: "chat"}, client.InNamespace("b-ns")}, want: []string{"b-ns"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := managercfg.AllShards(shardCache(sel, objs...), live, sel)
			var list collabv1.CollaborationSpaceList
			if err := c.List(context.Background(), &list, tc.opts...); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range list.Items {
				got = append(got, s.Namespace)
			}
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("spaces listed (-want +got): %s", diff)
			}
		})
	}
	var list collabv1.CollaborationSpaceList
	err := managercfg.AllShards(shardCache(sel, objs...), live, sel).List(context.Background(), &list, client.MatchingFields{"spec.department": "x"})
	if err == nil || !strings.Contains(err.Error(), "across shards") {
		t.Errorf("listing by a field no index covers: %v, want it refused", err)
	}
}

func TestShardSelectorsAndLeases(t *testing.T) {
	const id = "collab-operator.collab.opencommons.io"
	tests := map[string]struct {
		selector string
		sharded  bool
		// sameLeaseAs is another spelling that must share the lease.
		sameLeaseAs string
		wantErr     bool
	}{
		"none":              {selector: ""},
		"a shard":           {selector: collabv1.ShardLabel + "=shard-a", sharded: true, sameLeaseAs: collabv1.ShardLabel + " = shard-a"},
		"the main manager":  {selector: "!" + collabv1.ShardLabel, sharded: true, sameLeaseAs: " !" + collabv1.ShardLabel},
		"two requirements":  {selector: "tier=1," + collabv1.ShardLabel + "=a", sharded: true, sameLeaseAs: collabv1.ShardLabel + "=a,tier=1"},
		"not a selector":    {selector: "shard in (a", wantErr: true},
		"a bad label value": {selector: collabv1.ShardLabel + "=not valid!", wantErr: true},
	}
	leases := map[string]string{}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sel, err := managercfg.ParseShardSelector(tc.selector)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseShardSelector(%q): %v, want error %v", tc.selector, err, tc.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "--watch-label-selector") {
					t.Errorf("the error %q does not name the flag", err)
				}
				return
			}
			if managercfg.Sharded(sel) != tc.sharded {
				t.Errorf("Sharded(%q) = %v, want %v", tc.selector, !tc.sharded, tc.sharded)
			}
			lease := managercfg.ShardLeaderElectionID(id, sel)
			if !tc.sharded && lease != id {
				t.Errorf("the lease of a manager of every space is %q, want %q", lease, id)
			}
			if tc.sharded && (lease == id || len(lease) > 63) {
				t.Errorf("the lease of shard %q is %q: want its own, a valid name", tc.selector, lease)
			}
			if tc.sameLeaseAs != "" {
				other, err := managercfg.ParseShardSelector(tc.sameLeaseAs)
				if err != nil {
					t.Fatal(err)
				}
				if got := managercfg.ShardLeaderElectionID(id, other); got != lease {
					t.Errorf("%q has lease %q, %q has %q: want one", tc.selector, lease, tc.sameLeaseAs, got)
				}
			}
			leases[lease] = tc.selector
		})
	}
	if len(leases) != 4 {
		t.Errorf("the four selectors got %d leases, want four: %v", len(leases), leases)
	}
}

// TestPeopleDirectoriesAcrossShards: the backends' manager resolves, and lists in
// the directory's status, the groups of every shard's spaces; a shard resolves
// its own spaces' groups for them, wakes them, and writes no status, so the two
// never overwrite each other's.
func TestPeopleDirectoriesAcrossShards(t *testing.T) {
	dir := &collabv1.PeopleDirectory{ObjectMeta: metav1.ObjectMeta{Name: "org"}, Spec: collabv1.PeopleDirectorySpec{Default: true,
		Static: &collabv1.StaticDirectory{People: []collabv1.StaticPerson{{Username: "alice"}, {Username: "bob"}},
			Groups: []collabv1.StaticGroup{{Name: "eng", Members: []string{"alice"}}, {Name: "ops", Members: []string{"bob"}}}}}}
	withGroup := func(ns, shard, group string) *collabv1.CollaborationSpace {
		s := shardedSpace(ns, shard)
		s.Spec.Members = []collabv1.Member{{Kind: collabv1.SubjectGroup, Name: group, Role: collabv1.RoleMember}}
		return s
	}
	objs := []client.Object{dir, withGroup("a-ns", "", "eng"), withGroup("b-ns", "shard-b", "ops"), shardedSpace("c-ns", "shard-b")}
	build := func(sel labels.Selector) client.Client {
		var kept []client.Object
		for _, o := range objs {
			if _, isSpace := o.(*collabv1.CollaborationSpace); !isSpace || sel.Matches(labels.Set(o.GetLabels())) {
				kept = append(kept, o.DeepCopyObject().(client.Object))
			}
		}
		return fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(kept...).
			WithStatusSubresource(&collabv1.PeopleDirectory{}).Build()
	}
	type result struct {
		Resolved []string // groups in the manager's registry
		Status   []string // groups in the directory's status
		Woken    []string // namespaces of the spaces woken
	}
	tests := map[string]struct {
		selector    string
		resolveOnly bool
		want        result
	}{
		"the backends' manager, main shard": {selector: "!" + collabv1.ShardLabel, want: result{Resolved: []string{"eng", "ops"}, Status: []string{"eng", "ops"}}},
		"shard-b":                           {selector: collabv1.ShardLabel + "=shard-b", resolveOnly: true, want: result{Resolved: []string{"ops"}, Woken: []string{"b-ns"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sel, err := managercfg.ParseShardSelector(tc.selector)
			if err != nil {
				t.Fatal(err)
			}
			cached, live := build(sel), build(labels.Everything())
			var got result
			r := &peopledirectory.Reconciler{Client: managercfg.AllShards(cached, live, sel), Recorder: events.NewFakeRecorder(10),
				Registry: directory.NewRegistry()}
			if tc.resolveOnly {
				r.Client, r.ResolveOnly = cached, true
				r.Wake = func(s *collabv1.CollaborationSpace) { got.Woken = append(got.Woken, s.Namespace) }
			}
			if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(dir)}); err != nil {
				t.Fatal(err)
			}
			groups, _, _ := r.Registry.Lookup(dir.Name)
			for g, found := range groups {
				if found.Found {
					got.Resolved = append(got.Resolved, g)
				}
			}
			slices.Sort(got.Resolved)
			stored := &collabv1.PeopleDirectory{}
			if err := cached.Get(context.Background(), client.ObjectKeyFromObject(dir), stored); err != nil {
				t.Fatal(err)
			}
			for _, g := range stored.Status.Groups {
				got.Status = append(got.Status, g.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got): %s", diff)
			}
		})
	}
}

// TestAShardsChatBackendPassWritesNothing: in a shard (--backend-controllers=false)
// a ChatBackend's pass only keeps the shard's /sync stream running: it reads
// nothing more from the server (the fake answers nothing else) and writes no
// status, which the backends' manager keeps.
func TestAShardsChatBackendPassWritesNothing(t *testing.T) {
	backend := chattest.Backend()
	c := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).
		WithObjects(backend, chattest.Secret("chat-creds", "accessToken")).
		WithStatusSubresource(&collabv1.ChatBackend{}).Build()
	r := &chatbackend.Reconciler{Client: c, APIReader: c, Recorder: events.NewFakeRecorder(10), CredentialsNamespace: "collab-system",
		Chat: &chattest.Connector{C: &chatfake.Client{}}, Streams: stream.New(c), StreamsOnly: true}
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(backend)})
	if err != nil {
		t.Fatalf("the shard's pass: %v", err)
	}
	if res.RequeueAfter == 0 {
		t.Error("the shard's pass does not come back to check its stream")
	}
	got := &collabv1.ChatBackend{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(backend), got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(backend.Status, got.Status); diff != "" {
		t.Errorf("the shard wrote the backend's status (-before +after): %s", diff)
	}
}
