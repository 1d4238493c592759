// Package drills holds the fault drills of issue 9 on real components: a
// kube-apiserver + etcd (envtest) and a Dendrite homeserver, each drill with its
// own, so a drill's storm or crashes cannot disturb another suite.
//
//   - TestFaultStorm: a fault-injecting proxy (internal/testing/faultproxy) in front
//     of Dendrite answers 30% of the requests 429 and 10% 502 while 10 spaces × 3
//     rooms converge and then, converged, ride through the storm: all Ready within
//     3 minutes, Ready every second of the storm window (1 minute; 5 soaking), no
//     duplicate room, no pass longer than the pass deadline, and Warning events
//     for the faults.
//   - TestKillDrill: the manager's own binary, as a separate process, is killed
//     with SIGKILL 3 times (5 soaking) while 30 spaces × 2 rooms (60 soaking)
//     converge; afterwards every alias has exactly one room and the operator's
//     account is in no extra room.
//   - TestFailoverDrill (issue 19): two replicas of the manager's binary with
//     --leader-elect; the leader is killed with SIGKILL while 18 spaces × 2
//     rooms (30 soaking) converge. The standby takes the lease within the lease duration, its
//     /sync stream resumes from the stored position, every space turns Ready with
//     no duplicate or orphan room, and a change by hand is put back within
//     seconds.
//   - TestAPIServerRestart: the kube-apiserver stops for 25 s (45 s soaking) and
//     starts again; a spec edit made as it answers reaches Matrix within 10 s,
//     and the manager logs losing and reaching it.
//   - TestChatBackendFollowsItsServer: Dendrite stops for 25 s (45 s soaking); the
//     ChatBackend, whose own poll is an hour away, says Ready=False and then
//     Ready=True again within 10 s of each.
//   - TestShards (issue 22): two shards (--watch-label-selector), each with its
//     own lease, 3 spaces each: every space reconciled by one manager only, the
//     backends' manager's reaper knows the other shard's rooms, a space moved by
//     relabelling it keeps its rooms and stays Ready.
//
// In `make test` the drills run side by side over these short windows; `make
// drills` (COLLAB_DRILLS=soak) runs them one at a time over the long ones
// (profile_test.go). The numbers each drill measured are logged on one line
// starting "drill result" (go test -v), and recorded in docs/benchmarks.md from
// `make drills`. With DRILL_LOG_DIR set, each drill keeps Dendrite's data and log
// and the manager's logs in a directory under it; TEST_VERBOSE_LOGS shows the
// in-process manager's log.
package drills

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/harness"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

const (
	operatorNamespace = "collab-system"
	chatBackend       = "matrix"
	// ownerName is the one User member of every drill space: an Owner, invited to
	// every room, so passes manage memberships too.
	ownerName = "lead"
)

// TestMain: the drills make the manager fail on purpose, so its errors are only
// shown with TEST_VERBOSE_LOGS. The drills run side by side unless soaking
// (profile_test.go).
func TestMain(m *testing.M) {
	flag.Parse()
	allowParallel()
	harness.SetLogger(zapcore.DPanicLevel)
	code := m.Run()
	removeManagerBuild()
	os.Exit(code)
}

// rig is one drill's world: its own API server and its own Dendrite, with the
// operator's account and the spaces' owner registered.
type rig struct {
	// dir keeps Dendrite's data and log and the drill's own files.
	dir        string
	env        *envtest.Environment
	cfg        *rest.Config
	k8s        client.Client
	homeserver *dendrite.Server
	operator   *matrixuser.User
	// owner is the spaces' Owner (ownerName), for changes made by hand.
	owner *matrixuser.User
	// healer restarts Dendrite when it wedges (healHomeserver).
	healer *dendrite.Healer
}

// newRig starts the drill's API server, Dendrite and accounts; configure, when
// given, adjusts the API server before it starts.
func newRig(t *testing.T, configure ...func(*envtest.Environment)) *rig {
	t.Helper()
	dir := drillDir(t)
	suite := harness.New(t, harness.Options{
		ConfigureAPIServer: configure,
		Dendrite:           &dendrite.Options{Dir: filepath.Join(dir, "dendrite")},
	})
	ctx := context.Background()
	hs := suite.Homeserver
	r := &rig{dir: dir, env: suite.Env, cfg: suite.Config, k8s: suite.Client, homeserver: hs}
	id, token, err := hs.RegisterUser(ctx, "collab-operator", "password-operator", true)
	if err != nil {
		t.Fatal(err)
	}
	r.operator = matrixuser.New(hs.URL, id, token)
	if id, token, err = hs.RegisterUser(ctx, ownerName, "password-"+ownerName, false); err != nil {
		t.Fatal(err)
	}
	r.owner = matrixuser.New(hs.URL, id, token)
	if r.healer, err = dendrite.NewHealer(ctx, hs); err != nil {
		t.Fatal(err)
	}
	r.createNamespace(t, operatorNamespace)
	return r
}

// healHomeserver probes Dendrite once and restarts it after the second failed
// probe in a row (dendrite.Healer).
func (r *rig) healHomeserver(t *testing.T) {
	t.Helper()
	saw, err := r.healer.Check(context.Background())
	if err != nil {
		t.Fatalf("cannot restart Dendrite: %v", err)
	}
	if saw != "" {
		t.Log(saw)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// drillDir is where a drill keeps its files: a directory of its own under
// $DRILL_LOG_DIR, kept after the test, when that is set; else a temporary one.
func drillDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv("DRILL_LOG_DIR")
	if base == "" {
		return t.TempDir()
	}
	dir := filepath.Join(base, t.Name()+"-"+time.Now().UTC().Format("20060102T150405"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("The drill's files are kept in %s", dir)
	return dir
}

func (r *rig) createNamespace(t *testing.T, name string) {
	t.Helper()
	err := r.k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
}

// createChatBackend stores the operator's token and points a ChatBackend at url
// (Dendrite, or the proxy in front of it), polled every pollInterval.
func (r *rig) createChatBackend(t *testing.T, url string, pollInterval time.Duration) {
	t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: chatBackend + "-credentials", Namespace: operatorNamespace},
		Data:       map[string][]byte{"accessToken": []byte(r.operator.Token())},
	}
	if err := r.k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	err := r.k8s.Create(ctx, &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: chatBackend},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{
				HomeserverURL:        url,
				ServerName:           r.homeserver.ServerName,
				CredentialsSecretRef: collabv1.SecretReference{Name: secret.Name},
			},
			PollInterval: metav1.Duration{Duration: pollInterval},
			// The kill drill leaves up to a few dozen rooms behind at once; the
			// default cap would spread their removal over hours.
			Reaper: &collabv1.Reaper{Mode: collabv1.ReaperModeDelete, MaxDeletionsPerHour: ptr.To[int32](200)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// workload is n spaces, one per namespace "<prefix>-NN", each named "dept" with the
// given rooms.
type workload struct {
	prefix string
	n      int
	rooms  []string
	// from is the index of the first space, in a part of a larger workload.
	from int
}

// part is n of the workload's spaces, from its from-th on.
func (w workload) part(from, n int) workload {
	w.from, w.n = w.from+from, n
	return w
}

func (w workload) key(i int) client.ObjectKey {
	return client.ObjectKey{Namespace: fmt.Sprintf("%s-%02d", w.prefix, i), Name: "dept"}
}

func (w workload) keys() []client.ObjectKey {
	keys := make([]client.ObjectKey, w.n)
	for i := range w.n {
		keys[i] = w.key(w.from + i)
	}
	return keys
}

// roomsPerSpace counts the space room and its rooms.
func (w workload) roomsPerSpace() int { return 1 + len(w.rooms) }

func (w workload) space(i int) *collabv1.CollaborationSpace {
	key := w.key(i)
	var rooms []collabv1.Room
	for _, name := range w.rooms {
		rooms = append(rooms, collabv1.Room{Name: name, Topic: "The " + name + " room of " + key.Namespace})
	}
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace},
		Spec: collabv1.CollaborationSpaceSpec{
			Department:  "Department " + key.Namespace,
			Description: "A drill space",
			Visibility:  collabv1.VisibilityDepartment,
			Members:     []collabv1.Member{{Kind: collabv1.SubjectUser, Name: ownerName, Role: collabv1.RoleOwner}},
			Chat:        &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: chatBackend}, Rooms: rooms},
		},
	}
}

func (r *rig) createSpaces(t *testing.T, w workload) {
	t.Helper()
	for i := range w.n {
		r.createSpace(t, w, w.from+i)
	}
}

// createSpace creates the workload's i-th space and its namespace.
func (r *rig) createSpace(t *testing.T, w workload, i int) {
	t.Helper()
	space := w.space(i)
	r.createNamespace(t, space.Namespace)
	if err := r.k8s.Create(context.Background(), space); err != nil {
		t.Fatalf("create %s: %v", space.Namespace, err)
	}
}

// readyState is one sample of the drill's spaces: which are Ready=True at their
// generation, and why the others are not.
type readyState struct {
	ready    map[client.ObjectKey]bool
	notReady map[client.ObjectKey]string
}

func (s readyState) all() bool { return len(s.notReady) == 0 }

// sampleReady reads every space of the workload once.
func (r *rig) sampleReady(ctx context.Context, w workload) (readyState, error) {
	var list collabv1.CollaborationSpaceList
	if err := r.k8s.List(ctx, &list); err != nil {
		return readyState{}, err
	}
	byKey := map[client.ObjectKey]*collabv1.CollaborationSpace{}
	for i := range list.Items {
		byKey[client.ObjectKeyFromObject(&list.Items[i])] = &list.Items[i]
	}
	s := readyState{ready: map[client.ObjectKey]bool{}, notReady: map[client.ObjectKey]string{}}
	for _, key := range w.keys() {
		space, ok := byKey[key]
		if !ok {
			s.notReady[key] = "not found"
			continue
		}
		c := meta.FindStatusCondition(space.Status.Conditions, collabv1.ReadyCondition)
		switch {
		case c == nil:
			s.notReady[key] = "no Ready condition"
		case c.Status != metav1.ConditionTrue || c.ObservedGeneration != space.Generation:
			s.notReady[key] = fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
		default:
			s.ready[key] = true
		}
	}
	return s, nil
}

// waitAllReady samples every second until every space is Ready at once, and
// returns how long that took; it fails after timeout, naming the spaces that were
// not.
// With heal, Dendrite is probed every 10 s and restarted when wedged
// (healHomeserver).
func (r *rig) waitAllReady(t *testing.T, w workload, timeout time.Duration, heal bool) time.Duration {
	t.Helper()
	start := time.Now()
	var last readyState
	for i := 0; time.Since(start) < timeout; i++ {
		s, err := r.sampleReady(context.Background(), w)
		if err != nil {
			t.Logf("cannot list spaces: %v", err)
		} else if last = s; s.all() {
			return time.Since(start)
		}
		if heal && i%10 == 9 {
			r.healHomeserver(t)
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("%d of %d spaces not Ready together within %s: %s", len(last.notReady), w.n, timeout, describe(last.notReady))
	return 0
}

// describe lists up to five spaces and why they were not Ready.
func describe(notReady map[client.ObjectKey]string) string {
	var lines []string
	for key, why := range notReady {
		lines = append(lines, key.String()+": "+why)
	}
	sort.Strings(lines)
	if len(lines) > 5 {
		lines = append(lines[:5], fmt.Sprintf("… and %d more", len(lines)-5))
	}
	return strings.Join(lines, "; ")
}

// census is what the operator's account holds on the chat server for the
// workload's spaces, read directly from Dendrite (never through a proxy).
type census struct {
	// joined counts every room the operator's account is in.
	joined int
	// owned are the joined rooms whose owner marker names one of the spaces.
	owned map[string]string // room id → owner "namespace/name"
	// unmarked are the joined rooms without an owner marker (each drill's
	// Dendrite is new: the operator has no other room): a createRoom cut off
	// before the marker's event left a bare room.
	unmarked []string
	// byAlias groups the owned rooms by the canonical alias they were made with.
	byAlias map[string][]string
	// resolved is where each expected alias points ("" when it does not resolve).
	resolved map[string]string
	// orphans are owned rooms no expected alias points at.
	orphans []string
	// duplicates are the expected aliases held, as canonical alias, by more than
	// one owned room; misplaced those that do not resolve to an owned room of
	// their own space.
	duplicates, misplaced []string
}

// expectedAliases maps each full alias the workload's spaces should hold to its
// space's owner marker value.
func (r *rig) expectedAliases(w workload) map[string]string {
	out := map[string]string{}
	server := r.homeserver.ServerName
	for _, key := range w.keys() {
		owner := key.Namespace + "/" + key.Name
		out[plan.FullAlias(plan.SpaceAlias(key.Namespace, key.Name), server)] = owner
		for _, room := range w.rooms {
			out[plan.FullAlias(plan.RoomAlias(key.Namespace, key.Name, room), server)] = owner
		}
	}
	return out
}

// takeCensus reads every room the operator is in: its owner marker and canonical
// alias; and resolves every expected alias.
func (r *rig) takeCensus(ctx context.Context, w workload) (census, error) {
	expected := r.expectedAliases(w)
	owners := map[string]bool{}
	for _, owner := range expected {
		owners[owner] = true
	}
	c := census{owned: map[string]string{}, byAlias: map[string][]string{}, resolved: map[string]string{}}
	joined, err := r.operator.JoinedRooms(ctx)
	if err != nil {
		return c, fmt.Errorf("cannot list the operator's rooms: %w", err)
	}
	c.joined = len(joined)
	for _, id := range joined {
		var marker struct {
			Owner string `json:"owner"`
		}
		if err := r.operator.State(ctx, id, chat.OwnerEventType, &marker); err != nil {
			if left, lerr := r.leftSince(ctx, id, err); lerr != nil {
				return c, lerr
			} else if left {
				c.joined-- // the reaper removed it after the listing
				continue
			}
			if !notFound(err) {
				return c, fmt.Errorf("cannot read the owner marker of %s: %w", id, err)
			}
			c.unmarked = append(c.unmarked, id)
			continue
		}
		if !owners[marker.Owner] {
			continue
		}
		c.owned[id] = marker.Owner
		var canonical struct {
			Alias string `json:"alias"`
		}
		_ = r.operator.State(ctx, id, "m.room.canonical_alias", &canonical)
		c.byAlias[canonical.Alias] = append(c.byAlias[canonical.Alias], id)
	}
	pointed := map[string]bool{}
	for alias, owner := range expected {
		id, err := r.operator.ResolveAlias(ctx, alias)
		if err != nil && !notFound(err) {
			return c, fmt.Errorf("cannot resolve %s: %w", alias, err)
		}
		c.resolved[alias] = id
		pointed[id] = true
		if id == "" || c.owned[id] != owner {
			c.misplaced = append(c.misplaced, fmt.Sprintf("%s → %q", alias, id))
		}
		if len(c.byAlias[alias]) > 1 {
			c.duplicates = append(c.duplicates, fmt.Sprintf("%s: %v", alias, c.byAlias[alias]))
		}
	}
	for id := range c.owned {
		if !pointed[id] {
			c.orphans = append(c.orphans, id)
		}
	}
	sort.Strings(c.unmarked)
	sort.Strings(c.orphans)
	sort.Strings(c.duplicates)
	sort.Strings(c.misplaced)
	return c, nil
}

// waitClean takes a census every 5 s, from the one given, until it is clean and
// holds no unmarked room (interrupted creates' leftovers adopted or removed by
// the reaper, once past its grace) or timeout passes, healing Dendrite
// meanwhile; it returns the last census and how long it waited.
func (r *rig) waitClean(t *testing.T, w workload, c census, timeout time.Duration) (census, time.Duration) {
	t.Helper()
	start := time.Now()
	for (!c.clean(w) || len(c.unmarked) > 0) && time.Since(start) < timeout {
		r.healHomeserver(t)
		time.Sleep(5 * time.Second)
		var err error
		if c, err = r.takeCensus(context.Background(), w); err != nil {
			t.Fatal(err)
		}
	}
	return c, time.Since(start)
}

// leftSince reports whether a state read of a room the operator was listed in
// failed because the operator has left it since (the reaper, running alongside
// the census, removes rooms): the server answers M_FORBIDDEN, and the room is no
// longer among the operator's rooms. A refused read of a room it is still in is
// not that.
func (r *rig) leftSince(ctx context.Context, id string, readErr error) (bool, error) {
	var e *matrixuser.Error
	if !errors.As(readErr, &e) || e.Code != "M_FORBIDDEN" {
		return false, nil
	}
	joined, err := r.operator.JoinedRooms(ctx)
	if err != nil {
		return false, fmt.Errorf("cannot list the operator's rooms: %w", err)
	}
	if slices.Contains(joined, id) {
		return false, fmt.Errorf("cannot read the owner marker of %s, a room the operator is in: %w", id, readErr)
	}
	return true, nil
}

// notFound reports whether the chat server answered M_NOT_FOUND.
func notFound(err error) bool {
	var e *matrixuser.Error
	return errors.As(err, &e) && e.Code == "M_NOT_FOUND"
}

// clean reports whether the census is what the workload should hold: every
// expected alias on exactly one room of its space, and no other room.
func (c census) clean(w workload) bool {
	return len(c.owned) == w.n*w.roomsPerSpace() && len(c.orphans) == 0 && len(c.duplicates) == 0 && len(c.misplaced) == 0
}

func (c census) String() string {
	return fmt.Sprintf("operator in %d rooms, %d with a drill space's owner marker, %d with no marker %v; %d orphans %v; "+
		"%d duplicated aliases %v; %d aliases not on their space's room %v",
		c.joined, len(c.owned), len(c.unmarked), c.unmarked, len(c.orphans), c.orphans, len(c.duplicates), c.duplicates,
		len(c.misplaced), c.misplaced)
}

// warningEvents counts the Warning event objects with one of the reasons, by
// reason, in the workload's namespaces. The recorder may fold repeats of a reason
// on one object into a series, so this can count fewer than were emitted.
func (r *rig) warningEvents(ctx context.Context, w workload, reasons ...string) (map[string]int, error) {
	want := map[string]bool{}
	for _, reason := range reasons {
		want[reason] = true
	}
	out := map[string]int{}
	for _, key := range w.keys() {
		var events corev1.EventList
		if err := r.k8s.List(ctx, &events, client.InNamespace(key.Namespace)); err != nil {
			return nil, err
		}
		for _, ev := range events.Items {
			if ev.Type == corev1.EventTypeWarning && want[ev.Reason] {
				out[ev.Reason]++
			}
		}
	}
	return out, nil
}
