package drills

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/faultproxy"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

// The failover drill of issue 19.
const (
	// leaseName is main.go's leaderElectionID; the Lease lives in the operator's
	// namespace (--leader-election-namespace).
	leaseName = "collab-operator.collab.opencommons.io"
	// The lease timings the replicas run with: controller-runtime's defaults, the
	// manager's too, so the drill measures what a Deployment gets.
	failoverLease = 15 * time.Second
	failoverRenew = 10 * time.Second
	failoverRetry = 2 * time.Second
	// failoverTakeover bounds the time from the kill until the standby holds the
	// lease: the lease duration after the leader's last renewal, a retry period,
	// and a margin for a loaded machine.
	failoverTakeover = failoverLease + failoverRetry + 10*time.Second
	// failoverConverge bounds the time from the takeover until every space is
	// Ready.
	failoverConverge = 2 * time.Minute
	// failoverCleanup bounds the wait, once all are Ready, until the rooms the
	// kill's interrupted creates left behind are adopted or removed: the reaper's
	// grace and interval (killFlags) with a margin.
	failoverCleanup = time.Minute
	// failoverDrift bounds the time until a change made by hand is put back by
	// the new leader; the backend polls hourly, so only the /sync stream can.
	failoverDrift = 10 * time.Second
	// syncTokenSaved bounds the wait for the leader to store its stream position
	// (every 30 s while the stream moves, controllers/chatsync.go).
	syncTokenSaved = 90 * time.Second
)

// failoverFlags: leader election with the timings above, and the kill drill's
// quick reaper.
var failoverFlags = append([]string{"--leader-elect", "--leader-election-namespace=" + operatorNamespace,
	"--leader-elect-lease-duration=" + failoverLease.String(), "--leader-elect-renew-deadline=" + failoverRenew.String(),
	"--leader-elect-retry-period=" + failoverRetry.String()}, killFlags...)

// failoverWorkload: 16 spaces Ready before the kill, 12 converging at the kill,
// 2 created after it under COLLAB_DRILLS=soak; 8, 8 and 2 in `make test`.
var (
	failoverEarlyN, failoverMidN = window(8, 16), window(8, 12)

	failoverWorkload = workload{prefix: "failover", n: failoverEarlyN + failoverMidN + 2, rooms: []string{"general", "random"}}
	failoverEarly    = failoverWorkload.part(0, failoverEarlyN)
	failoverMid      = failoverWorkload.part(failoverEarlyN, failoverMidN)
	failoverLate     = failoverWorkload.part(failoverEarlyN+failoverMidN, 2)
)

// TestFailoverDrill runs two replicas of the manager's binary with
// --leader-elect against one API server and one Dendrite, as a Deployment with
// two replicas would, and kills the leader with SIGKILL while spaces converge.
// The standby must hold the lease within failoverTakeover, and carry on:
// the spaces created before and after the kill all turn Ready, every expected
// alias points at exactly one room of its space, no other room carries a drill
// space's owner marker, and the operator's account is in no room without one. Its
// /sync stream resumes from the position the old leader stored, puts back a
// topic changed by hand while no replica led, and, once all are Ready, one
// changed by hand within failoverDrift.
func TestFailoverDrill(t *testing.T) {
	parallel(t, false)
	r := newRig(t)
	ctx := context.Background()
	recorder := startSyncRecorder(t, r.homeserver.URL)
	bin := buildManager(t)
	kubeconfig := r.kubeconfig(t, r.dir)
	r.createChatBackend(t, recorder.URL, time.Hour)
	w := failoverWorkload

	start := time.Now()
	var replicas []*managerProcess
	for _, name := range []string{"a", "b"} {
		mgr, err := startManager(ctx, bin, kubeconfig, filepath.Join(r.dir, "manager-"+name+".log"), failoverFlags...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(mgr.stop)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("replica %s's log ends:\n%s", name, tail(mgr.log, 30))
			}
		})
		replicas = append(replicas, mgr)
	}
	holder, elected := r.waitLeaseHolder(t, "", failoverTakeover)
	leader, standby := whichLeads(t, replicas)
	t.Logf("Replica %d of 2 leads as %s, %s after both started", leader+1, holder, elected.Round(100*time.Millisecond))
	ledAt := time.Now()

	// Spaces Ready before the kill, and a stored stream position.
	r.createSpaces(t, failoverEarly)
	earlyReady := r.waitAllReady(t, failoverEarly, 2*time.Minute, true)
	t.Logf("The first %d spaces Ready %s after their creation", failoverEarly.n, earlyReady.Round(100*time.Millisecond))
	if n := passes(t, replicas[standby]); n != 0 {
		t.Errorf("the standby replica ran %d passes while the other led, want none", n)
	}
	// The position is stored at the first batch 30 s after the stream started:
	// the next spaces' rooms bring that batch.
	if d := 30*time.Second - time.Since(ledAt); d > 0 {
		time.Sleep(d)
	}
	r.createSpaces(t, failoverMid)
	var s readyState
	wait.Eventually(t, syncTokenSaved, "the leader to store its stream position while spaces converge", func() (bool, string) {
		var err error
		if s, err = r.sampleReady(ctx, failoverMid); err != nil {
			return false, err.Error()
		}
		token := r.syncToken(t)
		return token != "" && len(s.ready) > 0, fmt.Sprintf("syncToken %q, %d of %d Ready", token, len(s.ready), failoverMid.n)
	})
	if s.all() {
		t.Errorf("all %d spaces were Ready before the kill, want it to land while they converge", failoverMid.n)
	}
	if err := replicas[leader].kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	stored := r.syncToken(t)
	t.Logf("Killed the leader %s after it led, with %d of %d new spaces Ready and the stream stored at %q",
		time.Since(ledAt).Round(100*time.Millisecond), len(s.ready), failoverMid.n, stored)

	// While no replica leads: a topic changed by hand, and new spaces.
	early := r.readySpace(t, failoverEarly.key(0))
	room := roomIDOf(early, "general")
	r.changeTopicByHand(t, early, room)
	r.createSpaces(t, failoverLate)

	newHolder, _ := r.waitLeaseHolder(t, holder, failoverTakeover)
	takeover := time.Since(killed)
	t.Logf("The standby leads as %s %s after the kill", newHolder, takeover.Round(100*time.Millisecond))
	wait.Eventually(t, failoverRetry+5*time.Second, "the standby replica to say it leads", func() (bool, string) {
		got, err := replicas[standby].counter(ctx, "leader_election_master_status", "name")
		return err == nil && got[leaseName] == 1, fmt.Sprintf("leader_election_master_status %v %v", got, err)
	})
	var firstSync syncPoll
	wait.Eventually(t, 30*time.Second, "the new leader's /sync stream", func() (bool, string) {
		var ok bool
		firstSync, ok = recorder.firstAfter(killed)
		return ok, "no /sync since the kill"
	})
	if firstSync.since != stored {
		t.Errorf("the new leader's stream started from %q, want the stored position %q", firstSync.since, stored)
	}
	t.Logf("Its stream started %s after the kill, from %q", firstSync.at.Sub(killed).Round(100*time.Millisecond), firstSync.since)

	r.waitAllReady(t, failoverLate, failoverConverge, true)
	lateReady := time.Since(killed)
	r.waitAllReady(t, w, failoverConverge, true)
	allReady := time.Since(killed)
	r.waitTopic(t, early, room, failoverDrift)
	t.Logf("After the kill: the first spaces created after it Ready in %s, all %d in %s; the topic changed while none led put back by %s",
		lateReady.Round(100*time.Millisecond), w.n, allReady.Round(100*time.Millisecond), time.Since(killed).Round(100*time.Millisecond))

	atReady, err := r.takeCensus(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	final, cleanup := r.waitClean(t, w, atReady, failoverCleanup)
	if !final.clean(w) {
		t.Errorf("%s after all were Ready: want each of the %d aliases on exactly one room of its space and the operator in no other "+
			"room of the drill's spaces: %v", cleanup.Round(time.Second), w.n*w.roomsPerSpace(), final)
	}
	if len(final.unmarked) > 0 {
		t.Errorf("the operator stays joined to %d rooms without an owner marker: %v", len(final.unmarked), final.unmarked)
	}

	// The new leader's stream wakes a space changed by hand.
	wakeups, err := replicas[standby].counter(ctx, "collab_sync_wakeups_total", "backend")
	if err != nil {
		t.Fatal(err)
	}
	other := r.readySpace(t, failoverEarly.key(1))
	otherRoom := roomIDOf(other, "general")
	r.changeTopicByHand(t, other, otherRoom)
	drift := r.waitTopic(t, other, otherRoom, failoverDrift)
	after, err := replicas[standby].counter(ctx, "collab_sync_wakeups_total", "backend")
	if err != nil {
		t.Fatal(err)
	}
	if after[chatBackend] <= wakeups[chatBackend] {
		t.Errorf("the topic was put back without a wake-up from the stream (collab_sync_wakeups_total %v, then %v)", wakeups, after)
	}

	t.Logf("drill result: failover %d spaces × %d rooms (%d Ready before the kill, %d converging at it: %d Ready, %d created after); "+
		"takeover %s (lease %s, renew %s, retry %s); first space created after the kill Ready %s after it, all Ready %s after it; "+
		"stream resumed from %q (stored %q); hand change while none led put back, after takeover put back in %s; "+
		"at Ready: %d orphans, %d duplicated aliases, %d misplaced, %d unmarked; after %s: %d rooms owned (want %d), %d orphans, "+
		"%d duplicated aliases, %d misplaced, %d unmarked; Dendrite restarted %d times (wedged); %s in all",
		w.n, len(w.rooms), failoverEarly.n, failoverMid.n, len(s.ready), failoverLate.n,
		takeover.Round(100*time.Millisecond), failoverLease, failoverRenew, failoverRetry, lateReady.Round(100*time.Millisecond),
		allReady.Round(100*time.Millisecond), firstSync.since, stored, drift.Round(100*time.Millisecond),
		len(atReady.orphans), len(atReady.duplicates), len(atReady.misplaced), len(atReady.unmarked), cleanup.Round(time.Second),
		len(final.owned), w.n*w.roomsPerSpace(), len(final.orphans), len(final.duplicates), len(final.misplaced), len(final.unmarked),
		len(r.healer.Restarts), time.Since(start).Round(time.Second))
}

// waitLeaseHolder polls the manager's Lease every 100 ms until a replica other
// than previous ("" for any) holds it, and returns its identity and how long
// that took; it fails after timeout.
func (r *rig) waitLeaseHolder(t *testing.T, previous string, timeout time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	var holder string
	for time.Since(start) < timeout {
		lease := &coordinationv1.Lease{}
		err := r.k8s.Get(context.Background(), client.ObjectKey{Namespace: operatorNamespace, Name: leaseName}, lease)
		if client.IgnoreNotFound(err) != nil {
			t.Logf("cannot read the Lease: %v", err)
		}
		if err == nil && lease.Spec.HolderIdentity != nil {
			if holder = *lease.Spec.HolderIdentity; holder != "" && holder != previous {
				return holder, time.Since(start)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no replica but %q held the Lease %s/%s within %s (holder %q)", previous, operatorNamespace, leaseName, timeout, holder)
	return "", 0
}

// whichLeads returns the index of the replica whose leader_election_master_status
// says it leads, and of the other; exactly one must, within a retry period of the
// Lease naming a holder.
func whichLeads(t *testing.T, replicas []*managerProcess) (leader, standby int) {
	t.Helper()
	var leading []int
	wait.Eventually(t, failoverRetry, "exactly one replica to say it leads", func() (bool, string) {
		leading = nil
		for i, p := range replicas {
			got, err := p.counter(context.Background(), "leader_election_master_status", "name")
			if err != nil {
				return false, err.Error()
			}
			if got[leaseName] == 1 {
				leading = append(leading, i)
			}
		}
		return len(leading) == 1, fmt.Sprintf("replicas %v say they lead", leading)
	})
	return leading[0], 1 - leading[0]
}

// passes counts the Reconciles a manager process ran, of every controller.
func passes(t *testing.T, p *managerProcess) int {
	t.Helper()
	got, err := p.counter(context.Background(), "controller_runtime_reconcile_total", "controller")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range got {
		n += v
	}
	return n
}

// syncToken is the stream position stored in the drill's ChatBackend.
func (r *rig) syncToken(t *testing.T) string {
	t.Helper()
	b := &collabv1.ChatBackend{}
	if err := r.k8s.Get(context.Background(), client.ObjectKey{Name: chatBackend}, b); err != nil {
		t.Fatal(err)
	}
	return b.Status.SyncToken
}

// readySpace reads a space whose rooms are made.
func (r *rig) readySpace(t *testing.T, key client.ObjectKey) *collabv1.CollaborationSpace {
	t.Helper()
	space := &collabv1.CollaborationSpace{}
	if err := r.k8s.Get(context.Background(), key, space); err != nil {
		t.Fatal(err)
	}
	if space.Status.Chat == nil || space.Status.Chat.SpaceID == "" {
		t.Fatalf("%s has no space room in its status", key)
	}
	return space
}

// changeTopicByHand: the spaces' Owner joins the space and one of its rooms in
// her own Matrix client and changes the room's topic.
func (r *rig) changeTopicByHand(t *testing.T, space *collabv1.CollaborationSpace, room string) {
	t.Helper()
	ctx := context.Background()
	// All again after a wedge: a join Dendrite answered before it wedged may
	// be lost with its restart, as a person who finds themselves out of the
	// room joins again.
	r.retryOnWedge(t, "the Owner joins the room and changes its topic", func() error {
		for _, id := range []string{space.Status.Chat.SpaceID, room} {
			if err := r.owner.Join(ctx, id); err != nil {
				return fmt.Errorf("joining %s: %w", id, err)
			}
		}
		return r.owner.SetTopic(ctx, room, "changed by hand")
	})
}

// retryOnWedge does what a person does with their client, again as they would
// when the server answers 500: a manager killed in the middle of a request can
// wedge Dendrite on SQLite until it restarts (healHomeserver), which is the test
// server's fault, not the operator's. It fails after 40 s.
func (r *rig) retryOnWedge(t *testing.T, what string, do func() error) {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		err := do()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: %v; checking Dendrite and trying again", what, err)
		r.healHomeserver(t)
		time.Sleep(2 * time.Second)
	}
}

// waitTopic samples the room's topic every 100 ms until it is the one the
// space's spec gives the room again, and returns how long that took; it fails
// after timeout.
func (r *rig) waitTopic(t *testing.T, space *collabv1.CollaborationSpace, room string, timeout time.Duration) time.Duration {
	t.Helper()
	want := ""
	for _, spec := range space.Spec.Chat.Rooms {
		if roomIDOf(space, spec.Name) == room {
			want = spec.Topic
		}
	}
	start := time.Now()
	var got struct {
		Topic string `json:"topic"`
	}
	var err error
	for time.Since(start) < timeout {
		if err = r.owner.State(context.Background(), room, "m.room.topic", &got); err == nil && got.Topic == want {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the topic of %s's room %s is %q (%v) %s after the change by hand, want %q put back", space.Namespace, room,
		got.Topic, err, timeout, want)
	return 0
}

func roomIDOf(space *collabv1.CollaborationSpace, name string) string {
	for _, room := range space.Status.Chat.Rooms {
		if room.Name == name {
			return room.RoomID
		}
	}
	return ""
}

// syncRecorder is a reverse proxy in front of Dendrite that notes when each
// /sync long poll arrived and from which position.
type syncRecorder struct {
	*httptest.Server
	mu    sync.Mutex
	polls []syncPoll
}

type syncPoll struct {
	at    time.Time
	since string
}

func startSyncRecorder(t *testing.T, target string) *syncRecorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	s := &syncRecorder{}
	forward := httputil.NewSingleHostReverseProxy(u)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if faultproxy.IsSync(req) {
			s.mu.Lock()
			s.polls = append(s.polls, syncPoll{at: time.Now(), since: req.URL.Query().Get("since")})
			s.mu.Unlock()
		}
		forward.ServeHTTP(w, req)
	}))
	t.Cleanup(s.Close)
	return s
}

// firstAfter is the first /sync poll that arrived after the moment.
func (s *syncRecorder) firstAfter(moment time.Time) (syncPoll, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.polls, func(p syncPoll) bool { return p.at.After(moment) })
	if i < 0 {
		return syncPoll{}, false
	}
	return s.polls[i], true
}
