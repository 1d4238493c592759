package podrun

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

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
