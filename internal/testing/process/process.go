// Package process supervises one child process of a test: a server such as
// Dendrite or slapd that the test starts, watches and stops. The child runs in
// the foreground with its output in a log file (or the writers given), dies with
// the test binary (Linux), and is stopped by its own PID only: SIGTERM, then
// SIGKILL after a grace period, then waited for.
//
// It is test tooling, like the rest of internal/testing: no production package
// imports it.
package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultGrace is how long Stop waits after SIGTERM before it kills.
const DefaultGrace = 5 * time.Second

// Spec says what to run.
type Spec struct {
	// Path of the binary and its arguments.
	Path string
	Args []string
	// Dir is the working directory; the test's when empty.
	Dir string
	// Stdout and Stderr receive the process's output. A nil one goes to Log.
	Stdout, Stderr io.Writer
	// Log is a file opened for appending (created 0600) when Stdout or Stderr is
	// nil; it is closed when the process has been stopped.
	Log string
	// Grace is how long Stop waits after SIGTERM; DefaultGrace when 0.
	Grace time.Duration
}

// Process is one running child.
type Process struct {
	spec    Spec
	cmd     *exec.Cmd
	logFile *os.File
	exited  chan struct{}
	waitErr error
	stop    sync.Once
	stopErr error
}

// Start runs spec's binary. The caller must Stop it.
func Start(spec Spec) (*Process, error) {
	if spec.Grace == 0 {
		spec.Grace = DefaultGrace
	}
	p := &Process{spec: spec, exited: make(chan struct{})}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.Dir
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stdout, cmd.Stderr = spec.Stdout, spec.Stderr
	if cmd.Stdout == nil || cmd.Stderr == nil {
		if spec.Log == "" {
			return nil, errors.New("process: no Log file for the output of " + spec.Path)
		}
		f, err := os.OpenFile(spec.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		p.logFile = f
		if cmd.Stdout == nil {
			cmd.Stdout = f
		}
		if cmd.Stderr == nil {
			cmd.Stderr = f
		}
	}
	if err := cmd.Start(); err != nil {
		p.closeLog()
		return nil, fmt.Errorf("cannot start %s: %w", spec.Path, err)
	}
	p.cmd = cmd
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// PID is the process's id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited is closed once the process has ended, by itself or by Stop.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is how the process ended (exec.Cmd.Wait's error); call it after Exited.
func (p *Process) Err() error {
	select {
	case <-p.exited:
		return p.waitErr
	default:
		return nil
	}
}

// Signal sends sig to this process only (e.g. SIGSTOP to make it hang).
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop ends the process: SIGCONT (in case it was paused), SIGTERM, SIGKILL
// after the grace period, and waits for it; then closes the log file. It is safe
// to call more than once and after the process has exited by itself.
func (p *Process) Stop() error {
	p.stop.Do(func() {
		p.stopErr = p.terminate()
		p.closeLog()
	})
	return p.stopErr
}

func (p *Process) terminate() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(p.spec.Grace):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.exited
	return nil
}

func (p *Process) closeLog() {
	if p.logFile != nil {
		_ = p.logFile.Close()
	}
}

// LogTail is the end of the Log file (at most n bytes), trimmed, or "" when there
// is none: to quote in an error saying why a server did not start.
func (p *Process) LogTail(n int) string { return Tail(p.spec.Log, n) }

// Tail is the end of the file at path (at most n bytes), trimmed, with "…" in
// front when cut; "" when it cannot be read or is empty.
func Tail(path string, n int) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	s := string(b)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
