package managerbench

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/testing/repo"
)

// secretsOptions are the settings of -mode secrets.
type SecretsOptions struct {
	Count   int           // Secrets the tenants create
	Size    int           // bytes of data in each
	Wait    time.Duration // how long after the last one before measuring again
	Manager string        // a prebuilt manager binary; this checkout's when empty
	Label   string        // names the manager in the report
}

// secretsResult is what -mode secrets measured of the manager process.
type secretsResult struct {
	spaces, count, size       int
	before, after             memSample
	peak                      uint64
	create, settled, converge time.Duration
}

// memSample is the manager's resident set and Go heap at one moment.
type memSample struct {
	rss, heap uint64
	// anon and file split rss: Go's heap, stacks and runtime; the binary's pages.
	anon, file uint64
}

// runSecrets is -mode secrets: does the manager's memory grow with the Secrets that
// tenants create? It starts kube-apiserver + etcd, runs the manager as its own
// process (built from this checkout, or -manager), as main.go runs it, lets it
// converge o.spaces spaces (permissions only), and measures its RSS. Then the
// tenants create o.count Secrets of o.size bytes in their namespaces, every one
// labelled app.kubernetes.io/managed-by=collab-operator as the operator's own
// objects are, and after o.wait the RSS is measured again.
func RunSecrets(ctx context.Context, o Options) error {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	w := benchkit.Workload{Spaces: o.Spaces, Rooms: 0, Owners: min(o.Owners, o.Spaces)}
	rig, err := startManagerRig(ctx, o, "secrets", 0)
	if err != nil {
		return err
	}
	defer rig.stop()
	direct, mgr := rig.direct, rig.mgr

	res, err := measureSecrets(ctx, direct, mgr, w, o)
	if err != nil {
		return err
	}
	md := res.markdown(o.Secrets.Label)
	fmt.Print(md)
	if o.Out != "" {
		return os.WriteFile(o.Out, []byte(md), 0o644)
	}
	return nil
}

// measureSecrets lets the manager converge w's spaces, samples its memory, has the
// tenants create their Secrets, waits and samples again.
func measureSecrets(ctx context.Context, direct client.WithWatch, mgr *managerProcess, w benchkit.Workload, o Options) (secretsResult, error) {
	res := secretsResult{spaces: w.Spaces, count: o.Secrets.Count, size: o.Secrets.Size}
	var err error
	benchkit.Progress("secrets: %d spaces (permissions only) for the manager to serve", w.Spaces)
	start := time.Now()
	for i := range w.Spaces {
		if err := direct.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.Namespace(i)}}); err != nil {
			return res, err
		}
		space := w.Space(i, "")
		space.Spec.Chat = nil
		if err := direct.Create(ctx, space); err != nil {
			return res, err
		}
	}
	if err := waitSpacesReady(ctx, direct, w.Spaces, o.Timeout); err != nil {
		return res, err
	}
	res.converge = time.Since(start)
	if err := benchkit.Sleep(ctx, 20*time.Second); err != nil { // let the first passes' garbage go
		return res, err
	}
	if res.before, err = mgr.sample(ctx); err != nil {
		return res, err
	}
	benchkit.Progress("secrets: manager RSS %s, heap %s; tenants create %d Secrets of %d KiB",
		benchkit.MiB(res.before.rss), benchkit.MiB(res.before.heap), res.count, res.size>>10)

	start = time.Now()
	for i := range res.count {
		if err := direct.Create(ctx, tenantSecret(w.Namespace(i%w.Spaces), i, res.size)); err != nil {
			return res, fmt.Errorf("cannot create Secret %d: %w", i, err)
		}
	}
	res.create = time.Since(start)
	if err := benchkit.Sleep(ctx, o.Secrets.Wait); err != nil {
		return res, err
	}
	if res.after, err = mgr.sample(ctx); err != nil {
		return res, err
	}
	res.peak = benchkit.PeakRSS(mgr.cmd.Process.Pid)
	res.settled = time.Since(start)
	if err := waitSpacesReady(ctx, direct, w.Spaces, time.Minute); err != nil {
		return res, fmt.Errorf("after the Secrets: %w", err)
	}
	return res, nil
}

// tenantSecret is a tenant's Secret of size random bytes that claims to be the
// operator's.
func tenantSecret(ns string, i, size int) *corev1.Secret {
	data := make([]byte, size)
	_, _ = rand.Read(data)
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("tenant-%04d", i), Namespace: ns,
			Labels: map[string]string{collabv1.ManagedByLabel: collabv1.ManagedByValue},
		},
		Data: map[string][]byte{"blob": data},
	}
}

// managerBinary returns prebuilt, or builds this checkout's manager into dir.
func managerBinary(ctx context.Context, dir, prebuilt string) (string, error) {
	if prebuilt != "" {
		return prebuilt, nil
	}
	root, err := repo.Root()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "manager")
	benchkit.Progress("secrets: building the manager")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("cannot build the manager: %w", err)
	}
	return bin, nil
}

// managerMemLimit is the manager's GOMEMLIMIT (-manager-gomemlimit).
var ManagerMemLimit string

// managerArgs are flags the mode adds to the manager's (a shard's selector).
var managerArgs []string

// managerProcess is the manager running as its own process.
type managerProcess struct {
	cmd            *exec.Cmd
	metrics, pprof string
	done           chan struct{}
}

// startManagerProcess runs the manager binary against env as an administrator, with
// the flags make dev gives it, and waits until it is ready.
func startManagerProcess(ctx context.Context, env *envtest.Environment, dir, bin string) (*managerProcess, error) {
	admin, err := env.AddUser(envtest.User{Name: "bench-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		return nil, err
	}
	kcPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kcPath, kubeconfig, 0o600); err != nil {
		return nil, err
	}
	metrics, probes, pprof := freePort(), freePort(), freePort()
	if metrics == "" || probes == "" || pprof == "" {
		return nil, errors.New("no free port for the manager")
	}
	logFile, err := os.Create(filepath.Join(dir, "manager.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--kubeconfig="+kcPath, "--metrics-bind-address="+metrics,
		"--health-probe-bind-address="+probes, "--pprof-bind-address="+pprof,
		"--operator-namespace="+benchkit.OperatorNamespace, "--zap-log-level=error")
	cmd.Args = append(cmd.Args, managerArgs...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = os.Environ()
	if ManagerMemLimit != "" {
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+ManagerMemLimit)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start the manager: %w", err)
	}
	p := &managerProcess{cmd: cmd, metrics: metrics, pprof: pprof, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logFile.Close(); close(p.done) }()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if status, err := httpGet(ctx, "http://"+probes+"/readyz"); err == nil && status == http.StatusOK {
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("the manager exited: see %s", logFile.Name())
		case <-time.After(250 * time.Millisecond):
		}
	}
	p.stop()
	return nil, errors.New("the manager was not ready within a minute")
}

// stop stops the manager by its own PID: SIGTERM, then SIGKILL after a grace period.
func (p *managerProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// sample reads the manager's resident set from /proc and its Go heap in use from
// its metrics.
func (p *managerProcess) sample(ctx context.Context) (memSample, error) {
	pid := p.cmd.Process.Pid
	s := memSample{rss: procStatus(pid, "VmRSS:"), anon: procStatus(pid, "RssAnon:"), file: procStatus(pid, "RssFile:")}
	if s.rss == 0 {
		return s, errors.New("cannot read the manager's resident set")
	}
	return s, scanMetrics(ctx, p.metrics, func(line string) {
		if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			s.heap = uint64(f)
		}
	})
}

// procStatus reads a kB field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) uint64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func httpGet(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// freePort returns a free loopback address, or "" when there is none.
func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ""
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

func (r secretsResult) markdown(label string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### The manager's memory and tenants' Secrets (%s)\n\n", label)
	fmt.Fprintf(&b, "%d spaces (permissions only) served; then %d Secrets of %d KiB (%s in all) created in their "+
		"namespaces, each labelled %s=%s.\n\n", r.spaces, r.count, r.size>>10,
		benchkit.MiB(uint64(r.count)*uint64(r.size)), collabv1.ManagedByLabel, collabv1.ManagedByValue)
	b.WriteString("| | manager RSS | Go heap in use |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| before, %d spaces Ready | %s | %s |\n", r.spaces, benchkit.MiB(r.before.rss), benchkit.MiB(r.before.heap))
	fmt.Fprintf(&b, "| after the Secrets (%s later) | %s | %s |\n", r.settled.Round(time.Second), benchkit.MiB(r.after.rss), benchkit.MiB(r.after.heap))
	fmt.Fprintf(&b, "| growth | %s | %s |\n", signedMiB(r.before.rss, r.after.rss), signedMiB(r.before.heap, r.after.heap))
	fmt.Fprintf(&b, "| peak RSS (VmHWM) | %s | |\n\n", benchkit.MiB(r.peak))
	fmt.Fprintf(&b, "Spaces converged in %s; creating the Secrets took %s.\n", r.converge.Round(time.Second), r.create.Round(time.Second))
	return b.String()
}

func signedMiB(before, after uint64) string {
	return fmt.Sprintf("%+.1f MiB", (float64(after)-float64(before))/(1<<20))
}

// saveHeapProfile writes the manager's heap profile (live objects after a
// garbage collection) into the temporary directory, where it outlives the run,
// for `go tool pprof -top`.
func (p *managerProcess) saveHeapProfile(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.pprof+"/debug/pprof/heap?gc=1", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("collab-bench-heap-%d.pprof", p.cmd.Process.Pid))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return "", err
	}
	return path, f.Close()
}

// scanMetrics reads the manager's /metrics at addr and hands each line to each.
func scanMetrics(ctx context.Context, addr string, each func(line string)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot read the manager's metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		each(sc.Text())
	}
	return sc.Err()
}
