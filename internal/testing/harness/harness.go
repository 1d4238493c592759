// Package harness starts the servers an integration test runs against, with
// options: a real kube-apiserver and etcd (envtest, through testenv) with a
// client, a Dendrite homeserver and an OpenLDAP directory (slapd). The
// operator's manager is started on them by internal/testing/managertest.
//
// A TestMain calls Start and stops the Suite when m.Run returns; a test that
// needs a world of its own (a drill) calls New, which stops everything when the
// test ends and, when it failed, logs the end of Dendrite's log. The harness
// imports no controller, so the controllers' own tests may use it.
//
// Like everything under internal/testing it is test tooling: no production
// package imports it (internal/engines' layout test checks that with go list).
package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/process"
	"github.com/opencommons/collab-operator/internal/testing/slapd"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// Options say which pieces Start runs. The zero value starts the API server
// only.
type Options struct {
	// Scheme of the client; testenv.Scheme() (built-in kinds and the project's
	// API) when nil.
	Scheme *runtime.Scheme
	// ConfigureAPIServer adjusts the envtest environment before it starts.
	ConfigureAPIServer []func(*envtest.Environment)
	// Dendrite, when set, starts a homeserver with these options.
	Dendrite *dendrite.Options
	// Slapd, when set, starts a directory server with these options.
	Slapd *slapd.Options
}

// Suite is what Start started; a piece not asked for is nil.
type Suite struct {
	// Env is the API server's environment (Env.Stop stops it; Suite.Stop does).
	Env *envtest.Environment
	// Config reaches the API server as its administrator.
	Config *rest.Config
	// Client is a client of Config with Options.Scheme.
	Client     client.Client
	Homeserver *dendrite.Server
	Directory  *slapd.Server

	stops []func()
}

// Start runs the API server and the pieces opts ask for. On an error it stops
// what it had started; otherwise the caller must Stop the Suite.
func Start(ctx context.Context, opts Options) (*Suite, error) {
	s := &Suite{}
	if err := s.start(ctx, opts); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Suite) start(ctx context.Context, opts Options) error {
	env, cfg, err := testenv.Start(opts.ConfigureAPIServer...)
	if err != nil {
		return err
	}
	s.Env, s.Config = env, cfg
	s.stops = append(s.stops, func() { _ = env.Stop() })
	scheme := opts.Scheme
	if scheme == nil {
		scheme = testenv.Scheme()
	}
	if s.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	if opts.Dendrite != nil {
		if s.Homeserver, err = dendrite.Start(ctx, *opts.Dendrite); err != nil {
			return fmt.Errorf("cannot start Dendrite: %w", err)
		}
		hs := s.Homeserver
		s.stops = append(s.stops, func() { _ = hs.Stop() })
	}
	if opts.Slapd != nil {
		if s.Directory, err = slapd.Start(ctx, *opts.Slapd); err != nil {
			return fmt.Errorf("cannot start slapd: %w", err)
		}
		dir := s.Directory
		s.stops = append(s.stops, func() { _ = dir.Stop() })
	}
	return nil
}

// Stop stops every piece, the last started first. It is safe to call more than
// once.
func (s *Suite) Stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	s.stops = nil
}

// New is Start for one test: it fails the test when a piece cannot start, and
// stops everything when the test ends. When the test failed, it logs the end of
// Dendrite's log.
func New(t testing.TB, opts Options) *Suite {
	t.Helper()
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	if hs := s.Homeserver; hs != nil {
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("Dendrite's log ends:\n%s", process.Tail(filepath.Join(hs.Dir, "dendrite.log"), 4000))
			}
		})
	}
	return s
}

// SetLogger sends controller-runtime's log (the manager's) to stderr at level
// and above (zapcore.ErrorLevel for most suites, zapcore.DPanicLevel for one that
// makes the manager fail on purpose), or everything when TEST_VERBOSE_LOGS is set.
func SetLogger(level zapcore.Level) {
	if os.Getenv("TEST_VERBOSE_LOGS") != "" {
		level = zapcore.DebugLevel
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(level)))
}
