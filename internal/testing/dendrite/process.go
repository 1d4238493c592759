package dendrite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/opencommons/collab-operator/internal/testing/process"
)

func (s *Server) start() error {
	opts := s.opts
	p, err := process.Start(process.Spec{
		Path: filepath.Join(opts.BinDir, "dendrite"),
		Args: []string{"--config", filepath.Join(s.Dir, configFile),
			"--http-bind-address", "127.0.0.1:" + strconv.Itoa(opts.Port)},
		Dir:    s.Dir,
		Stdout: opts.Stdout, Stderr: opts.Stderr,
		Log: filepath.Join(s.Dir, logFile),
	})
	if err != nil {
		return err
	}
	s.proc = p
	return nil
}

// Halt ends the process and keeps everything else: Restart starts it again on
// the same port with the same data. It needs a persistent Options.Dir.
func (s *Server) Halt() error {
	if s.tempDir {
		return errors.New("dendrite: only a server with a persistent Options.Dir can restart")
	}
	return s.proc.Stop()
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
		case <-s.proc.Exited():
			return fmt.Errorf("dendrite exited: %w", s.proc.Err())
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
		if s.proc != nil {
			err = s.proc.Stop()
		}
		s.cleanup()
	})
	return err
}

func (s *Server) cleanup() {
	if s.tempDir && s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
}
