// Package dendrite runs a real Matrix homeserver (Dendrite) on 127.0.0.1 for
// integration tests and local development, so the chat layer is tested against the
// server it talks to rather than a mock.
//
// Start generates a configuration and signing key, starts the binary on a free
// port and returns once the client-server API answers. The binaries come from
// $DENDRITE_BIN_DIR, or from the cache that `hack/local-bins.sh dendrite` fills
// (built on first use). Rate limiting is off and federation disabled: the server is
// only reachable from this machine.
package dendrite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencommons/collab-operator/internal/testing/process"
)

// Options configure Start. The zero value starts a throwaway server.
type Options struct {
	// Dir keeps the configuration, key and databases. When empty a temporary
	// directory is used and removed by Stop. An existing Dir is reused: its key,
	// databases and configuration (and hence accounts and rooms) survive restarts.
	Dir string
	// Port to listen on at 127.0.0.1; 0 picks a free one.
	Port int
	// ServerName of the homeserver; "localhost" when empty.
	ServerName string
	// SharedSecret for shared-secret registration; when empty the one in Dir's
	// configuration is kept, or a random one is generated.
	SharedSecret string
	// BinDir holds dendrite and generate-keys; see the package doc when empty.
	BinDir string
	// Stdout and Stderr receive Dendrite's output; when nil it goes to
	// <Dir>/dendrite.log, whose tail is quoted if the server fails to start.
	Stdout, Stderr io.Writer
	// RateLimiting turns Dendrite's client rate limiting on; it is off by default
	// so tests are not slowed down.
	RateLimiting bool
	// StartTimeout bounds the wait for the API to answer; 30s when zero.
	StartTimeout time.Duration
}

// Server is a running Dendrite.
type Server struct {
	// URL of the client-server API, e.g. "http://127.0.0.1:41234".
	URL string
	// ServerName is the part after the colon in user ids and aliases.
	ServerName string
	// Dir holds the configuration and data.
	Dir string

	secret string
	// opts are the options the server was started with, all defaults filled
	// in, so Restart starts it alike.
	opts    Options
	proc    *process.Process
	tempDir bool
	stop    sync.Once
	http    *http.Client
}

// Start runs a Dendrite and waits until it answers. The caller must Stop it.
// A port Start chose itself that another process took before Dendrite bound
// it (test packages start servers side by side) is chosen again, up to three
// times in all, as slapd's is.
func Start(ctx context.Context, opts Options) (*Server, error) {
	for attempt := 1; ; attempt++ {
		s, err := startOnce(ctx, opts)
		if err == nil || opts.Port != 0 || attempt == 3 || !errors.Is(err, errPortTaken) {
			return s, err
		}
	}
}

// errPortTaken says Dendrite could not bind its port.
var errPortTaken = errors.New("its port was taken")

func startOnce(ctx context.Context, opts Options) (*Server, error) {
	s, err := prepare(ctx, &opts)
	if err != nil {
		return nil, err
	}
	s.opts = opts
	if err := s.start(); err != nil {
		s.cleanup()
		return nil, err
	}
	if err := s.waitReady(ctx, s.startTimeout()); err != nil {
		log := s.logTail()
		_ = s.Stop()
		if strings.Contains(log, "address already in use") {
			err = fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return nil, fmt.Errorf("dendrite did not become ready: %w%s", err, log)
	}
	return s, nil
}

func (s *Server) startTimeout() time.Duration {
	if s.opts.StartTimeout == 0 {
		return 30 * time.Second
	}
	return s.opts.StartTimeout
}

// prepare fills in defaults and writes the configuration and key.
func prepare(ctx context.Context, opts *Options) (*Server, error) {
	if opts.ServerName == "" {
		opts.ServerName = "localhost"
	}
	bin, err := binDir(ctx, opts.BinDir, opts.Stderr)
	if err != nil {
		return nil, err
	}
	opts.BinDir = bin
	s := &Server{ServerName: opts.ServerName, http: &http.Client{Timeout: 10 * time.Second}}
	if opts.Dir == "" {
		if opts.Dir, err = os.MkdirTemp("", "dendrite-"); err != nil {
			return nil, err
		}
		s.tempDir = true
	}
	if s.Dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, err
	}
	if opts.Port == 0 {
		opts.Port, err = freePort()
	} else {
		err = portFree(opts.Port)
	}
	if err != nil {
		s.cleanup()
		return nil, err
	}
	s.URL = "http://127.0.0.1:" + strconv.Itoa(opts.Port)
	if s.secret, err = writeConfig(ctx, s.Dir, *opts, s.tempDir); err != nil {
		s.cleanup()
		return nil, err
	}
	return s, nil
}

// logTail quotes the end of dendrite.log to explain a failed start.
func (s *Server) logTail() string {
	tail := process.Tail(filepath.Join(s.Dir, logFile), 2000)
	if tail == "" {
		return ""
	}
	return "\n--- end of dendrite.log ---\n" + tail
}

// portFree fails when a chosen port is taken: Dendrite would not notice, since
// it does not exit when it cannot bind.
func portFree(port int) error {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("cannot use port %d for dendrite: %w", port, err)
	}
	return l.Close()
}

// freePort asks the kernel for a free port on 127.0.0.1. Another process could
// take it before Dendrite binds; Start then chooses again.
var freePort = func() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
