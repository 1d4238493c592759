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
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
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

// start starts one container.
func (p *Pod) start(ctx context.Context, spec corev1.Container) (*Container, error) {
	if len(spec.Command) == 0 {
		return nil, fmt.Errorf("container %s has no command: podrun does not know its image's entrypoint", spec.Name)
	}
	img, err := p.Images(spec.Image)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", spec.Name, err)
	}
	p.mu.Lock()
	dir := filepath.Join(p.Dir, fmt.Sprintf("start%d", p.starts), spec.Name)
	p.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	paths, err := p.layout(spec, img, dir)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", spec.Name, err)
	}
	env, err := p.env(ctx, spec, img)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", spec.Name, err)
	}
	c := &Container{Name: spec.Name, Log: filepath.Join(p.Dir, fmt.Sprintf("start%d-%s.log", p.starts, spec.Name)),
		spec: spec, done: make(chan struct{}), paths: paths}
	argv := append(append([]string(nil), spec.Command...), spec.Args...)
	cmd, err := p.command(context.WithoutCancel(ctx), spec, paths, expand(argv, env), env)
	if err != nil {
		return nil, err
	}
	log, err := os.Create(c.Log)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("cannot start container %s: %w", spec.Name, err)
	}
	c.cmd, c.Started = cmd, time.Now()
	go c.sample()
	go func() {
		c.err = cmd.Wait()
		_ = log.Close()
		c.mu.Lock()
		c.Exited = time.Now()
		c.mu.Unlock()
		close(c.done)
	}()
	p.mu.Lock()
	p.running = append(p.running, c)
	p.mu.Unlock()
	return c, nil
}

// command builds a process of the container: argv translated, in its working
// directory, with its user, in a process group of its own.
func (p *Pod) command(ctx context.Context, spec corev1.Container, paths *strings.Replacer, argv []string, env map[string]string) (*exec.Cmd, error) {
	img, err := p.Images(spec.Image)
	if err != nil {
		return nil, err
	}
	if env == nil {
		if env, err = p.env(ctx, spec, img); err != nil {
			return nil, err
		}
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = paths.Replace(a)
	}
	search := strings.Join(append(append([]string(nil), img.PathDirs...), os.Getenv("PATH")), string(os.PathListSeparator))
	bin := args[0]
	if !strings.Contains(bin, "/") {
		if bin, err = lookPath(bin, search); err != nil {
			return nil, fmt.Errorf("container %s: %w", spec.Name, err)
		}
	}
	cmd := exec.CommandContext(ctx, bin, args[1:]...)
	cmd.Dir = paths.Replace(spec.WorkingDir)
	cmd.Env = []string{"PATH=" + search, "HOME=" + os.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+paths.Replace(v))
	}
	sort.Strings(cmd.Env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if cred := p.credential(spec); cred != nil {
		cmd.SysProcAttr.Credential = cred
	}
	return cmd, nil
}

func lookPath(name, search string) (string, error) {
	for _, dir := range filepath.SplitList(search) {
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return "", fmt.Errorf("%s is not on this machine's PATH or the image's PathDirs", name)
}

// credential is the container's user, when this process may switch to it.
func (p *Pod) credential(spec corev1.Container) *syscall.Credential {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid := p.ids(spec)
	if uid == nil {
		return nil
	}
	cred := &syscall.Credential{Uid: uint32(*uid), Gid: uint32(*uid)}
	if gid != nil {
		cred.Gid = uint32(*gid)
	}
	if sc := p.Spec.SecurityContext; sc != nil && sc.FSGroup != nil {
		cred.Groups = []uint32{uint32(*sc.FSGroup)}
	}
	return cred
}

func (p *Pod) ids(spec corev1.Container) (uid, gid *int64) {
	if sc := p.Spec.SecurityContext; sc != nil {
		uid, gid = sc.RunAsUser, sc.RunAsGroup
	}
	if sc := spec.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			gid = sc.RunAsGroup
		}
	}
	return uid, gid
}

// layout makes the container's filesystem: a copy of the image's files, the
// volume directories (given to the fsGroup), and links for mounts inside the
// image. It returns the path translation.
func (p *Pod) layout(spec corev1.Container, img Image, dir string) (*strings.Replacer, error) {
	type mapping struct{ from, to string }
	var maps []mapping
	root := ""
	if img.Path != "" {
		root = filepath.Join(dir, "rootfs")
		if err := p.copyImage(spec, img, root); err != nil {
			return nil, err
		}
		maps = append(maps, mapping{img.Path, root})
	}
	for _, m := range spec.VolumeMounts {
		base, ok := p.Volumes[m.Name]
		if !ok {
			return nil, fmt.Errorf("volume %s is not mapped to a directory", m.Name)
		}
		host := filepath.Join(base, m.SubPath)
		if err := os.MkdirAll(host, 0o775); err != nil {
			return nil, err
		}
		if err := p.giveToFSGroup(host); err != nil {
			return nil, err
		}
		maps = append(maps, mapping{m.MountPath, host})
		if root != "" && (m.MountPath == img.Path || strings.HasPrefix(m.MountPath, img.Path+"/")) {
			if err := linkMount(root, strings.TrimPrefix(m.MountPath, img.Path), host); err != nil {
				return nil, err
			}
		}
	}
	sort.Slice(maps, func(i, j int) bool { return len(maps[i].from) > len(maps[j].from) })
	var pairs []string
	for _, m := range maps {
		pairs = append(pairs, m.from, m.to)
	}
	return strings.NewReplacer(pairs...), nil
}

// copyImage copies the image's files to root and, run as root, gives them to
// the container's user.
func (p *Pod) copyImage(spec corev1.Container, img Image, root string) error {
	if out, err := exec.Command("cp", "-a", img.Root, root).CombinedOutput(); err != nil {
		return fmt.Errorf("cannot copy the image's files from %s: %w: %s", img.Root, err, out)
	}
	if uid, gid := p.ids(spec); uid != nil && os.Geteuid() == 0 {
		owner := strconv.FormatInt(*uid, 10)
		if gid != nil {
			owner += ":" + strconv.FormatInt(*gid, 10)
		}
		if out, err := exec.Command("chown", "-R", owner, root).CombinedOutput(); err != nil {
			return fmt.Errorf("cannot give the image's files to %s: %w: %s", owner, err, out)
		}
	}
	return nil
}

// linkMount replaces path, inside the image's files at root, with a link to the
// volume directory host mounted there.
func linkMount(root, path, host string) error {
	at := filepath.Join(root, path)
	if err := os.RemoveAll(at); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
		return err
	}
	return os.Symlink(host, at)
}

// giveToFSGroup does what the kubelet does with fsGroup: the volume's files
// belong to the group, which may write them.
func (p *Pod) giveToFSGroup(dir string) error {
	sc := p.Spec.SecurityContext
	if sc == nil || sc.FSGroup == nil || os.Geteuid() != 0 {
		return nil
	}
	gid := int(*sc.FSGroup)
	return filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, -1, gid); err != nil {
			return err
		}
		if info.Mode()&os.ModeSymlink != 0 {
			return nil
		}
		mode := info.Mode().Perm() | 0o060
		if info.IsDir() {
			mode |= 0o010 | os.ModeSetgid
		}
		return os.Chmod(path, mode)
	})
}

// env resolves the container's environment: the image's, envFrom, then env.
func (p *Pod) env(ctx context.Context, spec corev1.Container, img Image) (map[string]string, error) {
	env := map[string]string{}
	for k, v := range img.Env {
		env[k] = v
	}
	for _, from := range spec.EnvFrom {
		data, err := p.source(ctx, from.SecretRef, from.ConfigMapRef)
		if err != nil {
			return nil, err
		}
		for k, v := range data {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range spec.Env {
		if e.ValueFrom == nil {
			env[e.Name] = expand([]string{e.Value}, env)[0]
			continue
		}
		v, err := p.valueFrom(ctx, e.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		env[e.Name] = v
	}
	return env, nil
}

func (p *Pod) source(ctx context.Context, secret *corev1.SecretEnvSource, cm *corev1.ConfigMapEnvSource) (map[string]string, error) {
	out := map[string]string{}
	switch {
	case secret != nil:
		s := &corev1.Secret{}
		if err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: secret.Name}, s); err != nil {
			if secret.Optional != nil && *secret.Optional {
				return out, nil
			}
			return nil, err
		}
		for k, v := range s.Data {
			out[k] = string(v)
		}
	case cm != nil:
		c := &corev1.ConfigMap{}
		if err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: cm.Name}, c); err != nil {
			if cm.Optional != nil && *cm.Optional {
				return out, nil
			}
			return nil, err
		}
		for k, v := range c.Data {
			out[k] = v
		}
	}
	return out, nil
}

func (p *Pod) valueFrom(ctx context.Context, from *corev1.EnvVarSource) (string, error) {
	switch {
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		s := &corev1.Secret{}
		if err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: ref.Name}, s); err != nil {
			return "", err
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			return "", fmt.Errorf("the Secret %s has no key %s", ref.Name, ref.Key)
		}
		return string(v), nil
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		c := &corev1.ConfigMap{}
		if err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: ref.Name}, c); err != nil {
			return "", err
		}
		v, ok := c.Data[ref.Key]
		if !ok {
			return "", fmt.Errorf("ConfigMap %s has no key %s", ref.Name, ref.Key)
		}
		return v, nil
	case from.FieldRef != nil:
		switch from.FieldRef.FieldPath {
		case "metadata.namespace":
			return p.Namespace, nil
		case "metadata.name":
			return p.Name, nil
		case "status.podIP":
			return "127.0.0.1", nil
		}
		return "", fmt.Errorf("field %s is not supported", from.FieldRef.FieldPath)
	}
	return "", errors.New("unsupported env source")
}

var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// expand replaces $(VAR) with the variable's value, as the kubelet does in
// commands, args and env values; $$ is a literal $, unknown references stay.
func expand(in []string, env map[string]string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = varRef.ReplaceAllStringFunc(s, func(m string) string {
			if m == "$$" {
				return "$"
			}
			if v, ok := env[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
	}
	return out
}

func portOf(c corev1.Container, port intstr.IntOrString) (int, error) {
	s := port.String()
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	for _, p := range c.Ports {
		if p.Name == s {
			return int(p.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("container %s has no port %s", c.Name, s)
}

// sample records the peak resident memory of the container's process group.
func (c *Container) sample() {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		if rss := groupRSS(c.cmd.Process.Pid); rss > 0 {
			c.mu.Lock()
			c.peak = max(c.peak, rss)
			c.mu.Unlock()
		}
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
	}
}

// groupRSS sums the resident memory of the processes in process group pgid.
func groupRSS(pgid int) int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	page := int64(os.Getpagesize())
	var total int64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp … rss is field 24; comm may hold spaces.
		s := string(b)
		end := strings.LastIndexByte(s, ')')
		if end < 0 {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 22 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g != pgid {
			continue
		}
		rss, _ := strconv.ParseInt(f[21], 10, 64)
		total += rss * page
	}
	return total
}
