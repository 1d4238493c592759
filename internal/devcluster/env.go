// Package devcluster is make dev (and test/e2e's cluster): a local control
// plane with a kwok node, Dendrite, slapd with a sample organisation, the
// in-repo NodeBB stand-in and the operator as a process, with the samples
// applied; then it prints what a platform team and each sample person would
// find, and plays a conversation whose openness figures it reports.
package devcluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
	"github.com/opencommons/collab-operator/internal/testing/repo"
	"github.com/opencommons/collab-operator/internal/testing/slapd"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// Env is the running local environment: every process it started, and where its
// state lives.
type Env struct {
	root       string
	out        io.Writer
	dir        string
	binDirs    map[string]string
	controlPl  *envtest.Environment
	restConfig *rest.Config
	kubeconfig string
	// metricsAddr is where the operator serves its metrics.
	metricsAddr string
	// talked is when PlayConversation's people finished talking.
	talked     time.Time
	client     client.Client
	homeserver *dendrite.Server
	ldap       *slapd.Server
	forum      *fake.Server
	forumToken string
	operator   *matrixuser.User
	procs      []*process
	stoppers   []func()
}

// process is a child process the environment started and must stop.
type process struct {
	name string
	cmd  *exec.Cmd
}

func (e *Env) say(format string, args ...any) {
	_, _ = fmt.Fprintf(e.out, "==> "+format+"\n", args...)
}

func (e *Env) buildBinaries(ctx context.Context) error {
	script := filepath.Join(e.root, "hack", "local-bins.sh")
	if err := e.runQuiet(ctx, e.out, script, "dev"); err != nil {
		return err
	}
	e.binDirs = map[string]string{}
	for _, name := range []string{"envtest", "k8s", "kwok", "dendrite"} {
		out, err := exec.CommandContext(ctx, script, "path", name).Output()
		if err != nil {
			return err
		}
		e.binDirs[name] = strings.TrimSpace(string(out))
	}
	return nil
}

// startControlPlane starts etcd and kube-apiserver with the CRDs installed, and writes
// an admin kubeconfig a user can point kubectl at.
func (e *Env) startControlPlane(_ context.Context) error {
	if err := os.Setenv("KUBEBUILDER_ASSETS", e.binDirs["envtest"]); err != nil {
		return err
	}
	env, err := testenv.New()
	if err != nil {
		return err
	}
	env.ControlPlane.GetAPIServer().Configure().
		Append("service-cluster-ip-range", "10.96.0.0/16")
	if e.restConfig, err = env.Start(); err != nil {
		return err
	}
	e.controlPl = env
	e.stoppers = append(e.stoppers, func() { _ = env.Stop() })

	admin, err := env.AddUser(envtest.User{Name: "dev-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		return err
	}
	e.kubeconfig = filepath.Join(e.dir, "kubeconfig")
	if err := os.WriteFile(e.kubeconfig, kubeconfig, 0o600); err != nil {
		return err
	}
	e.client, err = client.New(admin.Config(), client.Options{Scheme: testenv.Scheme()})
	return err
}

// installCRDs is done by the control plane's start; this step checks they serve,
// then installs the admission policies of config/admission, as config/default does.
func (e *Env) installCRDs(ctx context.Context) error {
	err := e.Kubectl(ctx, io.Discard, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/collaborationspaces.collab.opencommons.io", "crd/chatbackends.collab.opencommons.io",
		"crd/forumbackends.collab.opencommons.io", "crd/peopledirectories.collab.opencommons.io",
		"crd/collaborationpolicies.collab.opencommons.io")
	if err != nil {
		return err
	}
	return e.Kubectl(ctx, io.Discard, "apply", "--server-side", "-k", "config/admission")
}

// start runs a long-lived child with its output in <dir>/<name>.log.
func (e *Env) start(name string, bin string, args ...string) error {
	logFile, err := os.Create(filepath.Join(e.dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start %s: %w", name, err)
	}
	e.procs = append(e.procs, &process{name: name, cmd: cmd})
	return nil
}

// stopAll stops the children in reverse order of start: SIGTERM, then SIGKILL
// after a grace period, each by its own PID.
func (e *Env) Stop() {
	for i := len(e.procs) - 1; i >= 0; i-- {
		p := e.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
	}
	for i := len(e.stoppers) - 1; i >= 0; i-- {
		e.stoppers[i]()
	}
}

func (e *Env) Kubectl(ctx context.Context, out io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(e.binDirs["k8s"], "kubectl"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig)
	cmd.Dir = e.root
	cmd.Stdout, cmd.Stderr = out, e.out
	return cmd.Run()
}

func (e *Env) runQuiet(ctx context.Context, out io.Writer, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = e.root
	cmd.Stdout, cmd.Stderr = out, e.out
	return cmd.Run()
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// freePort returns a loopback port nothing listens on now.
func freePort() (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	_, port, err := net.SplitHostPort(addr)
	return port, err
}

func clientKey(name string) client.ObjectKey { return client.ObjectKey{Name: name} }

// Options say where the environment keeps its state and where it reports.
type Options struct {
	// Dir holds the cluster's and Dendrite's state, the logs and the kubeconfig;
	// it is emptied first. Relative to the repository root.
	Dir string
	// Out receives progress; stdout when nil.
	Out io.Writer
}

// Start builds what is missing and starts etcd, kube-apiserver (with the CRDs),
// kube-controller-manager, kube-scheduler, a kwok node, Dendrite, the NodeBB
// stand-in and the operator built from this checkout. On error, everything started
// so far is stopped. ctx bounds the whole life of the environment.
func Start(ctx context.Context, opts Options) (*Env, error) {
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	out := opts.Out
	if out == nil {
		out = os.Stdout
	}
	dir := opts.Dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	e := &Env{root: root, out: out, dir: dir}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"Building the local binaries (cached after the first run)", e.buildBinaries},
		{"Starting etcd and kube-apiserver", e.startControlPlane},
		{"Starting kube-controller-manager, kube-scheduler and a kwok node", e.startNodeSimulation},
		{"Starting Dendrite", e.startDendrite},
		{"Starting slapd with the sample organisation", e.startDirectory},
		{"Starting the stand-in NodeBB forum", e.startForum},
		{"Installing the CRDs and the admission policies", e.installCRDs},
		{"Starting the operator", e.startOperator},
	}
	for _, s := range steps {
		e.say("%s", s.name)
		if err := s.fn(ctx); err != nil {
			e.Stop()
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return e, nil
}

// Client talks to the environment's API server as its administrator.
func (e *Env) Client() client.Client { return e.client }

// Kubeconfig is the path of the administrator's kubeconfig.
func (e *Env) Kubeconfig() string { return e.kubeconfig }

// Dir holds the environment's state and logs.
func (e *Env) Dir() string { return e.dir }
