package main

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

	"github.com/opencommons/collab-operator/internal/forum/fake"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// devEnv is the running local environment: every process it started, and where its
// state lives.
type devEnv struct {
	dir        string
	binDirs    map[string]string
	controlPl  *envtest.Environment
	restConfig *rest.Config
	kubeconfig string
	// metricsAddr is where the operator serves its metrics.
	metricsAddr string
	client      client.Client
	homeserver  *dendrite.Server
	forum       *fake.Server
	forumToken  string
	operator    *matrixuser.User
	procs       []*process
	stoppers    []func()
}

// process is a child process the environment started and must stop.
type process struct {
	name string
	cmd  *exec.Cmd
}

func (e *devEnv) say(format string, args ...any) {
	fmt.Printf("==> "+format+"\n", args...)
}

func (e *devEnv) buildBinaries(ctx context.Context) error {
	if err := e.runQuiet(ctx, os.Stderr, "hack/local-bins.sh", "dev"); err != nil {
		return err
	}
	e.binDirs = map[string]string{}
	for _, name := range []string{"envtest", "k8s", "kwok", "dendrite"} {
		out, err := exec.CommandContext(ctx, "hack/local-bins.sh", "path", name).Output()
		if err != nil {
			return err
		}
		e.binDirs[name] = strings.TrimSpace(string(out))
	}
	return nil
}

// startControlPlane starts etcd and kube-apiserver with the CRDs installed, and writes
// an admin kubeconfig a user can point kubectl at.
func (e *devEnv) startControlPlane(_ context.Context) error {
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

// installCRDs is done by the control plane's start; this step checks they serve.
func (e *devEnv) installCRDs(ctx context.Context) error {
	return e.kubectl(ctx, io.Discard, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/collaborationspaces.collab.opencommons.io", "crd/chatbackends.collab.opencommons.io",
		"crd/forumbackends.collab.opencommons.io")
}

// start runs a long-lived child with its output in <dir>/<name>.log.
func (e *devEnv) start(name string, bin string, args ...string) error {
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
func (e *devEnv) stopAll() {
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

func (e *devEnv) kubectl(ctx context.Context, out io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(e.binDirs["k8s"], "kubectl"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig)
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	return cmd.Run()
}

func (e *devEnv) runQuiet(ctx context.Context, out io.Writer, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = out, os.Stderr
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
