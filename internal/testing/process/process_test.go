package process

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestStopEndsTheProcessAndKeepsItsLog(t *testing.T) {
	log := filepath.Join(t.TempDir(), "child.log")
	p, err := Start(Spec{Path: "/bin/sh", Args: []string{"-c", "echo started; exec sleep 60"}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	waitLog(t, p, "started")
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned before the process ended")
	}
	if err := syscall.Kill(p.PID(), 0); err == nil {
		t.Fatalf("process %d still exists after Stop", p.PID())
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("a second Stop = %v", err)
	}
}

func TestStopKillsAProcessThatIgnoresSIGTERM(t *testing.T) {
	log := filepath.Join(t.TempDir(), "child.log")
	p, err := Start(Spec{Path: "/bin/sh", Args: []string{"-c", "trap '' TERM; echo trapped; while :; do sleep 1; done"},
		Log: log, Grace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	waitLog(t, p, "trapped")
	start := time.Now()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 10*time.Second {
		t.Fatalf("Stop took %s, want the grace period of 300ms and then a kill", d)
	}
}

func TestStopResumesAPausedProcess(t *testing.T) {
	p, err := Start(Spec{Path: "/bin/sleep", Args: []string{"60"}, Log: filepath.Join(t.TempDir(), "log"), Grace: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Stop of a paused process took %s: SIGTERM was not delivered", d)
	}
}

func TestExitedReportsHowTheProcessEnded(t *testing.T) {
	p, err := Start(Spec{Path: "/bin/sh", Args: []string{"-c", "echo bad config >&2; exit 3"}, Log: filepath.Join(t.TempDir(), "log")})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Stop() }()
	select {
	case <-p.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("the process did not exit")
	}
	if p.Err() == nil {
		t.Fatal("Err = nil for an exit status of 3")
	}
	if got := p.LogTail(100); got != "bad config" {
		t.Fatalf("LogTail = %q, want the process's stderr", got)
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		path string
		n    int
		want string
	}{
		"whole file":  {path: path, n: 100, want: "0123456789"},
		"end only":    {path: path, n: 4, want: "…789"},
		"no file":     {path: path + ".missing", n: 10, want: ""},
		"no log path": {path: "", n: 10, want: ""},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Tail(tc.path, tc.n); got != tc.want {
				t.Fatalf("Tail(%q, %d) = %q, want %q", tc.path, tc.n, got, tc.want)
			}
		})
	}
}

func waitLog(t *testing.T, p *Process, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.LogTail(1000) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the log says %q, want %q", p.LogTail(1000), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
