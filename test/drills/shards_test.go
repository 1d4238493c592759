package drills

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/managercfg"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

// The shards drill of issue 22.
const (
	// shardB is the shard the drill's second manager runs.
	shardB = "shard-b"
	// shardsConverge bounds the time until the drill's spaces are Ready.
	shardsConverge = 90 * time.Second
	// shardsMove bounds the time until a moved space is reconciled by its new
	// shard and Ready at a spec change made after the move.
	shardsMove = 45 * time.Second
)

var (
	// mainSpaces carry no shard label: the main manager's. shardSpaces carry
	// shardB's.
	mainSpaces  = workload{prefix: "main", n: 3, rooms: []string{"general"}}
	shardSpaces = workload{prefix: "shardb", n: 3, rooms: []string{"general"}}
	// The selectors of the main manager and of shard-b's.
	mainSelector  = "!" + collabv1.ShardLabel
	shardSelector = collabv1.ShardLabel + "=" + shardB
)

// TestShards runs the operator as two shards on one API server and one Dendrite,
// as two Deployments would: the main manager (--watch-label-selector
// '!collab.opencommons.io/shard', the backends' controllers and their quick
// reaper) and shard-b's (collab.opencommons.io/shard=shard-b,
// --backend-controllers=false), each with leader election. Each holds its own
// Lease; each space is reconciled by exactly one of them (the passes each
// manager's log records); all are Ready, and every alias is on exactly one room
// of its space. Then a space of the main manager's is relabelled to shard-b: it
// stays Ready, shard-b reconciles it (a topic changed in its spec after the
// move reaches Matrix) and the main manager no more, its room ids and aliases
// are unchanged, and the operator's account is in no new room.
func TestShards(t *testing.T) {
	parallel(t, false)
	r := newRig(t)
	ctx := context.Background()
	bin := buildManager(t)
	kubeconfig := r.kubeconfig(t, r.dir)
	r.createChatBackend(t, r.homeserver.URL, time.Hour)
	start := time.Now()

	lease := []string{"--leader-elect", "--leader-election-namespace=" + operatorNamespace, "--zap-log-level=debug"}
	managers := map[string]*managerProcess{}
	for name, flags := range map[string][]string{
		"main":  append(slices.Clone(killFlags), "--watch-label-selector="+mainSelector),
		"shard": {"--watch-label-selector=" + shardSelector, "--backend-controllers=false"},
	} {
		mgr, err := startManager(ctx, bin, kubeconfig, filepath.Join(r.dir, "manager-"+name+".log"), append(lease, flags...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(mgr.stop)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("the %s manager's log ends:\n%s", name, tail(mgr.log, 30))
			}
		})
		managers[name] = mgr
	}
	holders := map[string]string{}
	for _, sel := range []string{mainSelector, shardSelector} {
		holders[sel] = r.waitShardLease(t, sel, failoverTakeover)
	}
	if holders[mainSelector] == holders[shardSelector] {
		t.Errorf("one manager holds both shards' leases: %v", holders)
	}

	r.createSpaces(t, mainSpaces)
	for i := range shardSpaces.n {
		space := shardSpaces.space(i)
		space.Labels = map[string]string{collabv1.ShardLabel: shardB}
		r.createNamespace(t, space.Namespace)
		if err := r.k8s.Create(ctx, space); err != nil {
			t.Fatal(err)
		}
	}
	r.waitAllReady(t, mainSpaces, shardsConverge, true)
	r.waitAllReady(t, shardSpaces, shardsConverge, true)
	converged := time.Since(start)

	// Each space reconciled by its own shard's manager only.
	passes := map[string]map[string]int{}
	for name, mgr := range managers {
		passes[name] = spacePasses(t, mgr.log, 0)
	}
	for name, w := range map[string]workload{"main": mainSpaces, "shard": shardSpaces} {
		other := map[string]string{"main": "shard", "shard": "main"}[name]
		for _, key := range w.keys() {
			if passes[name][key.Namespace] == 0 || passes[other][key.Namespace] != 0 {
				t.Errorf("%s: %d passes by the %s manager, %d by the %s manager; want passes by the %s manager only",
					key.Namespace, passes[name][key.Namespace], name, passes[other][key.Namespace], other, name)
			}
		}
	}
	for name, mgr := range managers {
		got, err := mgr.counter(ctx, "collab_spaces", "condition")
		if err != nil {
			t.Fatal(err)
		}
		if got[collabv1.ReadyCondition] != 3 {
			t.Errorf("the %s manager's cache holds %d spaces, want its 3", name, got[collabv1.ReadyCondition])
		}
	}
	before, err := r.takeShardsCensus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !before.clean {
		t.Fatalf("before the move: %s", before.detail)
	}
	// The main manager's reaper, which caches only its own shard's spaces, counts
	// shard-b's rooms among those spaces record: its next look, after all are
	// Ready, knows at least as many rooms as the operator is in.
	var look reaperLook
	reapFrom := logSize(t, managers["main"].log)
	wait.Eventually(t, 30*time.Second, "the main manager's reaper to look again", func() (bool, string) {
		var ok bool
		look, ok = lastReaperLook(t, managers["main"].log, reapFrom)
		return ok, "no look yet"
	})
	if look.Known < before.joined {
		t.Errorf("the main manager's reaper knew %d rooms recorded by spaces while the operator is in %d, all of them spaces' "+
			"rooms: it takes the other shard's rooms for rooms no space records", look.Known, before.joined)
	}

	// shard-b's own /sync stream puts back a change made by hand in one of its
	// spaces within seconds (the backend polls hourly).
	wakeups, err := managers["shard"].counter(ctx, "collab_sync_wakeups_total", "backend")
	if err != nil {
		t.Fatal(err)
	}
	handChanged := r.readySpace(t, shardSpaces.key(0))
	r.changeTopicByHand(t, handChanged, roomIDOf(handChanged, "general"))
	putBack := r.waitTopic(t, handChanged, roomIDOf(handChanged, "general"), failoverDrift)
	if after, err := managers["shard"].counter(ctx, "collab_sync_wakeups_total", "backend"); err != nil || after[chatBackend] <= wakeups[chatBackend] {
		t.Errorf("shard-b put the topic back without a wake-up from its stream (collab_sync_wakeups_total %v, then %v, %v)",
			wakeups, after, err)
	}

	// Move main-00 to shard-b by relabelling it.
	moved := mainSpaces.key(0)
	space := r.readySpace(t, moved)
	rooms := roomIDs(space)
	readySince := meta.FindStatusCondition(space.Status.Conditions, collabv1.ReadyCondition).LastTransitionTime
	patch := client.MergeFrom(space.DeepCopy())
	space.Labels = map[string]string{collabv1.ShardLabel: shardB}
	if err := r.k8s.Patch(ctx, space, patch); err != nil {
		t.Fatal(err)
	}
	relabelled := time.Now()
	wait.Eventually(t, shardsMove, "shard-b to reconcile the moved space, and the main manager to let it go", func() (bool, string) {
		got, err := managers["main"].counter(ctx, "collab_spaces", "condition")
		if err != nil {
			return false, err.Error()
		}
		n := spacePasses(t, managers["shard"].log, 0)[moved.Namespace]
		return n > 0 && got[collabv1.ReadyCondition] == 2, fmt.Sprintf("%d passes by shard-b, the main manager caches %d spaces",
			n, got[collabv1.ReadyCondition])
	})
	pickedUp := time.Since(relabelled)
	// From now on only shard-b may reconcile it: a spec change it must carry out.
	mainLogAt := logSize(t, managers["main"].log)
	space = r.readySpace(t, moved)
	patch = client.MergeFrom(space.DeepCopy())
	space.Spec.Chat.Rooms[0].Topic = "Moved to " + shardB
	if err := r.k8s.Patch(ctx, space, patch); err != nil {
		t.Fatal(err)
	}
	r.waitAllReady(t, mainSpaces.part(0, 1), shardsMove, true)
	wait.Eventually(t, shardsMove, "the topic given after the move on Matrix", func() (bool, string) {
		var got struct {
			Topic string `json:"topic"`
		}
		err := r.operator.State(ctx, rooms["general"], "m.room.topic", &got)
		return err == nil && got.Topic == "Moved to "+shardB, fmt.Sprintf("topic %q (%v)", got.Topic, err)
	})
	movedReady := time.Since(relabelled)
	if n := spacePasses(t, managers["main"].log, mainLogAt)[moved.Namespace]; n != 0 {
		t.Errorf("the main manager reconciled %s %d times after it moved to %s, want none", moved.Namespace, n, shardB)
	}
	after := r.readySpace(t, moved)
	if c := meta.FindStatusCondition(after.Status.Conditions, collabv1.ReadyCondition); !c.LastTransitionTime.Equal(&readySince) {
		t.Errorf("the moved space's Ready changed at %s (now %s %s), want it Ready throughout, since %s", c.LastTransitionTime,
			c.Status, c.Reason, readySince)
	}
	if diff := roomIDs(after); !maps.Equal(diff, rooms) {
		t.Errorf("the moved space's rooms are %v, were %v before the move: want the same rooms", diff, rooms)
	}
	final, err := r.takeShardsCensus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !final.clean || final.joined != before.joined || !maps.Equal(final.resolved, before.resolved) {
		t.Errorf("after the move: %s; the operator is in %d rooms (was %d); aliases moved: %v", final.detail, final.joined,
			before.joined, changedAliases(before.resolved, final.resolved))
	}
	r.waitAllReady(t, mainSpaces, shardsMove, true)
	r.waitAllReady(t, shardSpaces, shardsMove, true)

	t.Logf("drill result: shards: 2 managers (%q with the backends, %q), 3 spaces × %d rooms each, leases %v; all Ready %s after the "+
		"first manager started, each space reconciled by one manager only; the main manager's reaper knew %d rooms, the operator "+
		"in %d; a topic changed by hand in a shard-b space put back by its stream in %s; relabelled %s to %s: picked up in %s, a spec change "+
		"after it Ready %s after the relabel, no pass by the old manager, same %d room ids, operator in %d rooms before and %d after; "+
		"Dendrite restarted %d times (wedged); %s in all",
		mainSelector, shardSelector, mainSpaces.roomsPerSpace(), holders, converged.Round(100*time.Millisecond), look.Known,
		before.joined, putBack.Round(100*time.Millisecond), moved.Namespace, shardB,
		pickedUp.Round(100*time.Millisecond), movedReady.Round(100*time.Millisecond), len(rooms), before.joined, final.joined,
		len(r.healer.Restarts), time.Since(start).Round(time.Second))
}

// waitShardLease waits until a manager holds the Lease of the shard with the
// selector, named as main.go names it, and returns the holder.
func (r *rig) waitShardLease(t *testing.T, selector string, timeout time.Duration) string {
	t.Helper()
	sel, err := labels.Parse(selector)
	if err != nil {
		t.Fatal(err)
	}
	name := managercfg.ShardLeaderElectionID(leaseName, sel)
	var holder string
	wait.Eventually(t, timeout, "a manager to hold Lease "+name+" of "+selector, func() (bool, string) {
		lease := &coordinationv1.Lease{}
		if err := r.k8s.Get(context.Background(), client.ObjectKey{Namespace: operatorNamespace, Name: name}, lease); err != nil {
			return false, err.Error()
		}
		if lease.Spec.HolderIdentity != nil {
			holder = *lease.Spec.HolderIdentity
		}
		return holder != "", "no holder"
	})
	return holder
}

// spacePasses counts, by namespace, the passes over a space a manager's log
// records from the byte offset on: the space reconciler's "Reconciliation
// finished" (debug), which a pass that finds no space in its manager's cache, as
// the old manager's on the events of a space or its Roles leaving its selector,
// does not log: such a pass reads nothing and writes nothing.
func spacePasses(t *testing.T, path string, from int64) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(from, 0); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for lines.Scan() {
		var line struct {
			Msg        string `json:"msg"`
			Controller string `json:"controller"`
			Namespace  string `json:"namespace"`
		}
		if json.Unmarshal(lines.Bytes(), &line) == nil && line.Msg == "Reconciliation finished" && line.Controller == "collaborationspace" {
			out[line.Namespace]++
		}
	}
	return out
}

// reaperLook is the reaper's log line as it starts judging a backend's rooms.
type reaperLook struct {
	Msg    string `json:"msg"`
	Joined int    `json:"joined"`
	Known  int    `json:"known"`
}

// lastReaperLook is the last look of the reaper a manager's log records from
// the byte offset on.
func lastReaperLook(t *testing.T, path string, from int64) (reaperLook, bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(from, 0); err != nil {
		t.Fatal(err)
	}
	var last reaperLook
	found := false
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for lines.Scan() {
		var line reaperLook
		if json.Unmarshal(lines.Bytes(), &line) == nil && line.Msg == "Looking for rooms interrupted creates left behind" {
			last, found = line, true
		}
	}
	return last, found
}

func logSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// roomIDs maps "space" and each room's name to its id in the space's status.
func roomIDs(space *collabv1.CollaborationSpace) map[string]string {
	out := map[string]string{"space": space.Status.Chat.SpaceID}
	for _, room := range space.Status.Chat.Rooms {
		out[room.Name] = room.RoomID
	}
	return out
}

// shardsCensus is the census of both shards' spaces, on the one Dendrite.
type shardsCensus struct {
	clean    bool
	joined   int
	resolved map[string]string
	detail   string
}

func (r *rig) takeShardsCensus(ctx context.Context) (shardsCensus, error) {
	out := shardsCensus{clean: true, resolved: map[string]string{}}
	for _, w := range []workload{mainSpaces, shardSpaces} {
		c, err := r.takeCensus(ctx, w)
		if err != nil {
			return out, err
		}
		out.clean = out.clean && c.clean(w) && len(c.unmarked) == 0
		out.joined = c.joined
		maps.Copy(out.resolved, c.resolved)
		out.detail += fmt.Sprintf("%s: %v; ", w.prefix, c)
	}
	return out, nil
}

func changedAliases(before, after map[string]string) []string {
	var out []string
	for alias, id := range before {
		if after[alias] != id {
			out = append(out, fmt.Sprintf("%s: %s → %s", alias, id, after[alias]))
		}
	}
	slices.Sort(out)
	return out
}
