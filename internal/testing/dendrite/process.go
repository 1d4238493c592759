package dendrite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

func (s *Server) start() error {
	opts := s.opts
	s.cmd = exec.Command(filepath.Join(opts.BinDir, "dendrite"),
		"--config", filepath.Join(s.Dir, configFile),
		"--http-bind-address", "127.0.0.1:"+strconv.Itoa(opts.Port))
	s.cmd.Dir = s.Dir
	s.cmd.SysProcAttr = sysProcAttr()
	s.cmd.Stdout, s.cmd.Stderr = opts.Stdout, opts.Stderr
	if opts.Stdout == nil || opts.Stderr == nil {
		f, err := os.OpenFile(filepath.Join(s.Dir, "dendrite.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		s.logFile = f
		if s.cmd.Stdout == nil {
			s.cmd.Stdout = f
		}
		if s.cmd.Stderr == nil {
			s.cmd.Stderr = f
		}
	}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("cannot start dendrite: %w", err)
	}
	cmd, exited := s.cmd, make(chan struct{})
	s.exited = exited
	go func() {
		s.waitErr = cmd.Wait()
		close(exited)
	}()
	return nil
}

// Halt ends the process and keeps everything else: Restart starts it again on
// the same port with the same data. It needs a persistent Options.Dir.
func (s *Server) Halt() error {
	if s.tempDir {
		return errors.New("dendrite: only a server with a persistent Options.Dir can restart")
	}
	if err := s.terminate(); err != nil {
		return err
	}
	if s.logFile != nil {
		_ = s.logFile.Close()
		s.logFile = nil
	}
	return nil
}

// Restart ends the process (unless Halt did) and starts a new one on the same port with the same
// Dir, so accounts, rooms and access tokens survive, and waits until it answers.
// It needs a persistent Options.Dir: a throwaway server keeps JetStream in
// memory, which a restart would lose. Call it from one goroutine, never after
// Stop.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Halt(); err != nil {
		return err
	}
	if err := s.start(); err != nil {
		return err
	}
	if err := s.waitReady(ctx, s.startTimeout()); err != nil {
		return fmt.Errorf("dendrite did not answer after a restart: %w%s", err, s.logTail())
	}
	return nil
}

// waitReady polls /_matrix/client/versions until it answers 200. Each probe is
// short, so a Dendrite that died (or, as v0.13.8 does when it cannot bind,
// logs a fatal error without exiting) is noticed within the timeout.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.probe(ctx) {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("dendrite exited: %w", s.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (s *Server) probe(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/_matrix/client/versions", nil)
	resp, err := s.http.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop ends this server's process (and only it), waits for it, and removes a
// temporary Dir. It is safe to call more than once.
func (s *Server) Stop() error {
	var err error
	s.stop.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			err = s.terminate()
		}
		s.cleanup()
	})
	return err
}

// terminate asks politely, then kills after a grace period.
func (s *Server) terminate() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(5 * time.Second):
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-s.exited
	return nil
}

func (s *Server) cleanup() {
	if s.logFile != nil {
		_ = s.logFile.Close()
	}
	if s.tempDir && s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
}
