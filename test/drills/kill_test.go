package drills

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/opencommons/collab-operator/internal/testing/repo"
)

// The kill drill of issue 9.
var (
	// kills is how many times the manager is killed with SIGKILL, each 3–6 s after
	// it turned ready; at least minKillsConverging of them must hit it while
	// spaces are still converging. 3 and 2 in `make test`, 5 and 3 under
	// COLLAB_DRILLS=soak.
	kills              = window(3, 5)
	minKillsConverging = window(2, 3)
)

const (
	killMinDelay = 3 * time.Second
	killMaxDelay = 6 * time.Second
	// killConverge bounds the wait, after the last restart, until every space is
	// Ready together.
	killConverge = 5 * time.Minute
	// killCleanup bounds the wait, once all are Ready, until the rooms interrupted
	// creates left behind are adopted or removed: the reaper's grace and interval
	// (killFlags) after the last start, with a margin.
	killCleanup = 2 * time.Minute
	// killPoll is the backend's poll interval.
	killPoll = 30 * time.Second
)

// killFlags are extra flags for the manager in the drill: the reaper looks every
// 10s at rooms older than 20s, so the drill waits seconds, not minutes.
var killFlags = []string{"--orphan-grace=20s", "--reap-interval=10s"}

// killWorkload: 30 spaces × 2 rooms in `make test`, 60 under COLLAB_DRILLS=soak.
var killWorkload = workload{prefix: "kill", n: window(30, 60), rooms: []string{"general", "random"}}

// TestKillDrill runs the manager's binary as its own process, as a Deployment
// would, while killWorkload's spaces (2 rooms each) converge on Dendrite, and kills
// it with SIGKILL kills times at random moments, restarting it each time. Afterwards every space
// turns Ready, every expected alias points at exactly one room of its space, no
// other room carries the owner marker of a drill space, and the operator's
// account is in exactly spaces × 3 rooms of the drill's spaces and in no room
// without a marker. Rooms an interrupted create left behind (the owner marker,
// but no alias pointing at them) are counted when all turn Ready, and must be
// gone within killCleanup. Dendrite is restarted if it wedges (healHomeserver).
func TestKillDrill(t *testing.T) {
	parallel(t, false)
	r := newRig(t)
	ctx := context.Background()
	dir := r.dir
	bin := buildManager(t)
	kubeconfig := r.kubeconfig(t, dir)
	r.createChatBackend(t, r.homeserver.URL, killPoll)
	w := killWorkload
	r.createSpaces(t, w)

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("Kill moments drawn with seed %d", seed)
	start := time.Now()
	var mgr *managerProcess
	var atKill []string
	converging := 0
	for i := 0; ; i++ {
		var err error
		if mgr, err = startManager(ctx, bin, kubeconfig, filepath.Join(dir, fmt.Sprintf("manager-%d.log", i)), killFlags...); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(mgr.stop)
		if i == kills {
			break
		}
		delay := killMinDelay + time.Duration(rng.Int64N(int64(killMaxDelay-killMinDelay)))
		time.Sleep(delay)
		s, err := r.sampleReady(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		if !s.all() {
			converging++
		}
		if err := mgr.kill(); err != nil {
			t.Fatal(err)
		}
		atKill = append(atKill, fmt.Sprintf("%d Ready at +%s", len(s.ready), time.Since(start).Round(100*time.Millisecond)))
	}
	t.Logf("Killed the manager %d times (%d while spaces converged): %s", kills, converging, strings.Join(atKill, ", "))
	if converging < minKillsConverging {
		t.Errorf("only %d of %d kills hit the manager while spaces converged, want at least %d", converging, kills, minKillsConverging)
	}

	converge := r.waitAllReady(t, w, killConverge, true)
	total := time.Since(start)
	atReady, err := r.takeCensus(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("All %d spaces Ready %s after the last restart (%s after the first start): %v", w.n, converge.Round(time.Second),
		total.Round(time.Second), atReady)

	// The rooms interrupted creates left behind must be adopted or removed.
	final, cleanup := r.waitClean(t, w, atReady, killCleanup)
	// What the reaper did, as the last manager counted it (the events of a kind
	// on the backend fold into one series, so they cannot be counted).
	reaped, err := mgr.counter(ctx, "collab_orphan_rooms_total", "action")
	if err != nil {
		t.Error(err)
	}
	if !final.clean(w) {
		t.Errorf("%s after all were Ready: want each of the %d aliases on exactly one room of its space and the operator in no other "+
			"room of the drill's spaces: %v", cleanup.Round(time.Second), w.n*w.roomsPerSpace(), final)
	}
	if len(final.unmarked) > 0 {
		t.Errorf("the operator stays joined to %d rooms without an owner marker, which createRooms cut off before the "+
			"marker's event left behind (nothing can tell whose they are): %v", len(final.unmarked), final.unmarked)
	}
	if s, err := r.sampleReady(ctx, w); err != nil || !s.all() {
		t.Errorf("after the cleanup, spaces not Ready: %v %s", err, describe(s.notReady))
	}
	t.Logf("drill result: kill %d spaces × %d rooms; %d kills (%d during convergence); all Ready %s after the last restart; "+
		"at Ready: %d orphans, %d duplicated aliases, %d misplaced, %d unmarked; reaper (collab_orphan_rooms_total) %v; "+
		"after %s: %d rooms owned (want %d), %d orphans, %d duplicated aliases, %d misplaced, %d unmarked; Dendrite restarted %d times (wedged) %v",
		w.n, len(w.rooms), kills, converging, converge.Round(time.Second), len(atReady.orphans), len(atReady.duplicates),
		len(atReady.misplaced), len(atReady.unmarked), reaped, cleanup.Round(time.Second), len(final.owned), w.n*w.roomsPerSpace(),
		len(final.orphans), len(final.duplicates), len(final.misplaced), len(final.unmarked), len(r.healer.Restarts), r.healer.Restarts)
	if t.Failed() {
		t.Logf("the last manager's log ends:\n%s", tail(mgr.log, 40))
	}
}

// startManagerProcess builds this checkout's manager and runs it as its own
// process, as main.go wires it, until the test ends. Drills that need no kills
// use it too: controller-runtime's metrics registry is the process's, so a second
// in-process manager would mix its passes into the storm drill's figures.
func (r *rig) startManagerProcess(t *testing.T) *managerProcess {
	t.Helper()
	mgr, err := startManager(context.Background(), buildManager(t), r.kubeconfig(t, r.dir),
		filepath.Join(r.dir, "manager.log"), killFlags...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the manager's log ends:\n%s", tail(mgr.log, 40))
		}
	})
	return mgr
}

// managerBuild is this checkout's manager, built once for all drills.
var managerBuild struct {
	once     sync.Once
	dir, bin string
	err      error
}

// buildManager builds this checkout's manager the first time a drill asks, and
// returns the binary; TestMain removes it (removeManagerBuild).
func buildManager(t *testing.T) string {
	t.Helper()
	b := &managerBuild
	b.once.Do(func() {
		root, err := repo.Root()
		if err != nil {
			b.err = err
			return
		}
		if b.dir, b.err = os.MkdirTemp("", "drills-manager-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "manager")
		build := exec.Command("go", "build", "-o", b.bin, ".")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("%w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatalf("cannot build the manager: %v", b.err)
	}
	return b.bin
}

func removeManagerBuild() {
	if managerBuild.dir != "" {
		_ = os.RemoveAll(managerBuild.dir)
	}
}

// kubeconfig writes a kubeconfig of an administrator of the rig's API server.
func (r *rig) kubeconfig(t *testing.T, dir string) string {
	t.Helper()
	admin, err := r.env.AddUser(envtest.User{Name: "drill-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := admin.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// managerProcess is the manager's binary running as its own process.
type managerProcess struct {
	cmd     *exec.Cmd
	log     string
	metrics string // the URL of its /metrics
	done    chan struct{}
}

// startManager runs the manager against the API server of kubeconfig, as main.go
// runs in a Deployment, with the extra flags (without --leader-elect a restart
// starts at once), and waits until it is ready (a standby replica is ready too).
func startManager(ctx context.Context, bin, kubeconfig, logPath string, flags ...string) (*managerProcess, error) {
	probes, err := freeAddr()
	if err != nil {
		return nil, err
	}
	metrics, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--kubeconfig=" + kubeconfig, "--metrics-bind-address=" + metrics,
		"--health-probe-bind-address=" + probes, "--operator-namespace=" + operatorNamespace}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("cannot start the manager: %w", err)
	}
	p := &managerProcess{cmd: cmd, log: logPath, metrics: "http://" + metrics + "/metrics", done: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logFile.Close(); close(p.done) }()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if status, _, err := httpGet(ctx, "http://"+probes+"/readyz"); err == nil && status == http.StatusOK {
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("the manager exited; its log ends:\n%s", tail(logPath, 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
	p.stop()
	return nil, errors.New("the manager was not ready within a minute")
}

// counter sums the samples of a counter (or gauge) on the manager's /metrics, by
// the value of one label.
func (p *managerProcess) counter(ctx context.Context, name, label string) (map[string]int, error) {
	status, body, err := httpGet(ctx, p.metrics)
	if err != nil {
		return nil, fmt.Errorf("cannot read the manager's metrics: %w", err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("cannot read the manager's metrics: HTTP %d", status)
	}
	out := map[string]int{}
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		labels, value, _ := strings.Cut(rest, "} ")
		key := ""
		for _, kv := range strings.Split(labels, ",") {
			if k, v, _ := strings.Cut(kv, "="); k == label {
				key = strings.Trim(v, `"`)
			}
		}
		n, _ := strconv.ParseFloat(strings.TrimSpace(value), 64)
		out[key] += int(n)
	}
	return out, nil
}

func httpGet(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// kill sends SIGKILL to the manager's own PID and waits until it is gone.
func (p *managerProcess) kill() error {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("cannot kill the manager: %w", err)
	}
	<-p.done
	return nil
}

// stop stops the manager by its PID: SIGTERM, then SIGKILL after a grace period.
func (p *managerProcess) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// freeAddr returns a free loopback address.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
