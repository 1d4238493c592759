package matrix

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/opencommons/collab-operator/internal/testing/dendrite"
)

// One real Dendrite serves every integration test of the package. It starts on
// first use, so `go test -run TestTransport` needs none; when it cannot be built
// or started the tests that need it fail — they never skip.
var hs struct {
	once   sync.Once
	err    error
	server *dendrite.Server
	// operator is a server admin (needed for purge); users maps localpart to user.
	operator *user
	users    map[string]*user
	log      *os.File
}

// testUsers are registered once: alice, bob, carol and dave play department
// members; plainop is an operator account without server admin rights.
var testUsers = []string{"alice", "bob", "carol", "dave", "plainop"}

func TestMain(m *testing.M) {
	code := m.Run()
	if hs.server != nil {
		if err := hs.server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping dendrite:", err)
		}
	}
	if hs.log != nil {
		_ = hs.log.Close()
		if code == 0 {
			_ = os.Remove(hs.log.Name())
		} else {
			fmt.Fprintln(os.Stderr, "dendrite's log is kept in", hs.log.Name())
		}
	}
	os.Exit(code)
}

// homeserver returns the shared Dendrite, starting it and registering the test
// accounts on first use.
func homeserver(t *testing.T) *dendrite.Server {
	t.Helper()
	hs.once.Do(func() { hs.err = startHomeserver() })
	if hs.err != nil {
		t.Fatalf("a real Dendrite is required for this test: %v", hs.err)
	}
	return hs.server
}

func startHomeserver() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	hs.log, _ = os.CreateTemp("", "dendrite-matrix-test-*.log")
	opts := dendrite.Options{}
	if hs.log != nil {
		opts.Stdout, opts.Stderr = hs.log, hs.log
	}
	s, err := dendrite.Start(ctx, opts)
	if err != nil {
		return err
	}
	hs.server = s
	fmt.Fprintf(os.Stderr, "dendrite started at %s in %s\n", s.URL, time.Since(start).Round(time.Millisecond))
	if hs.operator, err = register(ctx, s, "operator", true); err != nil {
		return err
	}
	hs.users = map[string]*user{}
	for _, name := range testUsers {
		if hs.users[name], err = register(ctx, s, name, false); err != nil {
			return err
		}
	}
	return nil
}

func register(ctx context.Context, s *dendrite.Server, localpart string, admin bool) (*user, error) {
	id, token, err := s.RegisterUser(ctx, localpart, "password-"+localpart, admin)
	if err != nil {
		return nil, err
	}
	c, err := New(Config{HomeserverURL: s.URL, ServerName: s.ServerName, AccessToken: token})
	if err != nil {
		return nil, err
	}
	return &user{ID: id, Client: c}, nil
}
