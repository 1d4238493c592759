// Package podrun runs a pod's containers as local processes, the way a kubelet
// would run them, for tests that need the pod an operator builds to really run
// on a machine without containers.
//
// What it does as a kubelet would:
//   - init containers in order: a sidecar (restartPolicy Always) is started and
//     the next step waits for its startup probe; any other init container must
//     exit 0 before the next one starts; then the main containers;
//   - each container's command and args (the image's entrypoint is not known:
//     a container without a command is refused), working directory and env,
//     with $(VAR) references expanded, Secret and ConfigMap references read
//     from the cluster, and envFrom;
//   - volume mounts, each mapped to a directory on the host (subPath included),
//     which outlives the pod: a restart finds what the last pod left there;
//   - a fresh copy of the image's files for every container start (the
//     container's writable layer), in which mounts inside the image are
//     symbolic links to their volume directories;
//   - runAsUser, runAsGroup and fsGroup (volume directories are given to the
//     fsGroup), when the process runs as root;
//   - exec, HTTP and TCP probes, on the pod's network, which is the host's
//     loopback.
//
// What differs: paths are not chrooted, so every absolute path under a mount or
// under an image's root is rewritten in commands, args, env values and working
// directories; an image's own environment is not known (Image.Env adds what
// the containers need from it); ports are the host's (they must be free);
// probes are polled every second at most, with their timeouts; there are no
// resource limits, but the peak memory of each container (all its processes)
// is measured.
package podrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Image says how a container image is run on this machine.
type Image struct {
	// Root is a local directory that stands for the image's files under Path.
	// It is copied for each container start and never written to.
	Root string
	// Path is where Root is in the image, e.g. "/usr/src/app"; empty when the
	// containers need no files of the image (commands come from PATH).
	Path string
	// PathDirs are put before the host's PATH, e.g. where node is.
	PathDirs []string
	// Env is the image's own environment, or what the host needs besides the
	// pod's (e.g. to bind to loopback only).
	Env map[string]string
}

// Pod is one pod to run.
type Pod struct {
	// Name and Namespace of the pod; Namespace is where env references are read.
	Name, Namespace string
	Spec            corev1.PodSpec
	// Reader reads Secrets and ConfigMaps for the containers' env.
	Reader client.Reader
	// Images maps a container's image to how it runs here.
	Images func(image string) (Image, error)
	// Volumes maps each volume name to its host directory.
	Volumes map[string]string
	// Dir holds the containers' writable copies and logs. Dir and the volume
	// directories must be reachable by the pod's user (runAsUser).
	Dir string

	mu      sync.Mutex
	running []*Container
	starts  int
}

// Container is a started container.
type Container struct {
	Name string
	// Log is the file its output goes to.
	Log string
	// Started and Exited are when the process started and ended (zero while it
	// runs).
	Started, Exited time.Time

	spec  corev1.Container
	cmd   *exec.Cmd
	done  chan struct{}
	err   error
	peak  int64
	mu    sync.Mutex
	paths *strings.Replacer
}

// PeakMemory is the most memory (resident, all the container's processes
// together) seen while it ran, sampled twice a second.
func (c *Container) PeakMemory() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peak
}

// Duration is how long the container ran (so far).
func (c *Container) Duration() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Exited.IsZero() {
		return time.Since(c.Started)
	}
	return c.Exited.Sub(c.Started)
}

// Containers returns the containers of the current (or last) start, in the
// order they started.
func (p *Pod) Containers() []*Container {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Container(nil), p.running...)
}

// Container returns the container of that name of the current start.
func (p *Pod) Container(name string) *Container {
	for _, c := range p.Containers() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Start runs the init containers in order and then starts the main containers;
// it returns once they are started (see WaitReady). On failure everything
// started is stopped.
func (p *Pod) Start(ctx context.Context) error {
	p.mu.Lock()
	p.starts++
	p.running = nil
	p.mu.Unlock()
	if err := p.checkPorts(); err != nil {
		return err
	}
	for _, spec := range p.Spec.InitContainers {
		c, err := p.start(ctx, spec)
		if err != nil {
			p.Stop()
			return err
		}
		if spec.RestartPolicy != nil && *spec.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			if spec.StartupProbe != nil {
				if err := p.waitProbe(ctx, c, spec.StartupProbe, "startup"); err != nil {
					p.Stop()
					return err
				}
			}
			continue
		}
		<-c.done
		if c.err != nil {
			p.Stop()
			return fmt.Errorf("init container %s failed: %w (log: %s)", spec.Name, c.err, c.Log)
		}
	}
	for _, spec := range p.Spec.Containers {
		if _, err := p.start(ctx, spec); err != nil {
			p.Stop()
			return err
		}
	}
	return nil
}

// WaitReady waits for every main container's startup probe, then its readiness
// probe, to pass.
func (p *Pod) WaitReady(ctx context.Context) error {
	for _, spec := range p.Spec.Containers {
		c := p.Container(spec.Name)
		if spec.StartupProbe != nil {
			if err := p.waitProbe(ctx, c, spec.StartupProbe, "startup"); err != nil {
				return err
			}
		}
		if spec.ReadinessProbe != nil {
			if err := p.waitProbe(ctx, c, spec.ReadinessProbe, "readiness"); err != nil {
				return err
			}
		}
	}
	return nil
}

// Probe runs a probe of a container once.
func (p *Pod) Probe(ctx context.Context, c *Container, probe *corev1.Probe) error {
	timeout := time.Duration(max(probe.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h := probe.ProbeHandler
	switch {
	case h.Exec != nil:
		cmd, err := p.command(ctx, c.spec, c.paths, h.Exec.Command, nil)
		if err != nil {
			return err
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
		}
		return nil
	case h.HTTPGet != nil:
		port, err := portOf(c.spec, h.HTTPGet.Port)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, h.HTTPGet.Path), nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", "kube-probe/1.37")
		req.Header.Set("Accept", "*/*")
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
		}
		return nil
	case h.TCPSocket != nil:
		port, err := portOf(c.spec, h.TCPSocket.Port)
		if err != nil {
			return err
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return errors.New("probe has no handler")
}

// waitProbe polls a probe until it passes, the container exits, or the probe's
// failure budget (initial delay + period × failureThreshold) runs out.
func (p *Pod) waitProbe(ctx context.Context, c *Container, probe *corev1.Probe, kind string) error {
	period := time.Duration(max(probe.PeriodSeconds, 1)) * time.Second
	budget := time.Duration(probe.InitialDelaySeconds)*time.Second + period*time.Duration(max(probe.FailureThreshold, 1))
	deadline := time.Now().Add(budget)
	poll := min(period, time.Second)
	var last error
	for {
		if last = p.Probe(ctx, c, probe); last == nil {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("container %s exited before its %s probe passed: %w (log: %s)", c.Name, kind, c.err, c.Log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s probe of container %s did not pass in %s: %w (log: %s)", kind, c.Name, budget, last, c.Log)
		}
	}
}

// Stop stops the main containers, then the sidecars in reverse order: SIGTERM to
// each container's process group, SIGKILL after the pod's grace period.
func (p *Pod) Stop() {
	cs := p.Containers()
	grace := 30 * time.Second
	if g := p.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		select {
		case <-c.done:
			continue
		default:
		}
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(grace):
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
			<-c.done
		}
	}
}

func (p *Pod) checkPorts() error {
	for _, c := range append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...) {
		for _, port := range c.Ports {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port.ContainerPort))
			if err != nil {
				return fmt.Errorf("port %d of container %s is taken on this machine: %w", port.ContainerPort, c.Name, err)
			}
			_ = ln.Close()
		}
	}
	return nil
}

var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)
