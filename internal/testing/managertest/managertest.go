// Package managertest runs the operator's manager in the test process, wired as
// main.go wires it, against a test's API server (internal/testing/harness
// starts one). It is the one place tests call the controllers' setup, and is
// kept apart from the harness so that the controllers' own tests, which cannot
// import a package that imports them, can still use the harness's servers.
package managertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/opencommons/collab-operator/controllers"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/managercfg"
	"github.com/opencommons/collab-operator/internal/reqobserve"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// DefaultOperatorNamespace is Options.OperatorNamespace when empty.
const DefaultOperatorNamespace = "collab-system"

// Options are the manager's flags a test sets; the rest are main.go's
// defaults. The metrics server is off and the spaces' collector goes to a
// registry of its own, so a process may run several managers one after another.
type Options struct {
	// OperatorNamespace is --operator-namespace (credentials are read there);
	// DefaultOperatorNamespace when empty. The test creates it.
	OperatorNamespace string
	// MaxConcurrentReconciles is --max-concurrent-reconciles; one when 0.
	MaxConcurrentReconciles int
	// MaxRemovalsPerPass is --max-member-removals (per space and hour); no cap
	// when 0.
	MaxRemovalsPerPass int
	// PassTimeout bounds one pass over a space; 2m when 0.
	PassTimeout time.Duration
	// ForumEndpointOverride is --forum-endpoint-override.
	ForumEndpointOverride string
	// InsightsInterval is --insights-interval; no insights when 0.
	InsightsInterval time.Duration
	// ChatRequests and ForumRequests, when set, see every request the manager
	// makes to a chat server or a forum.
	ChatRequests, ForumRequests reqobserve.RequestObserver
}

// Manager is a manager running in this process.
type Manager struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Start runs the operator's controllers in this process against the API
// server of cfg, with the cache and client options of the real manager, and
// returns once its cache has synced. The manager runs until ctx ends or Stop.
//
// This is the one place tests wire the controllers; when their package moves,
// only this file changes.
func Start(ctx context.Context, cfg *rest.Config, o Options) (*Manager, error) {
	mgr, err := ctrl.NewManager(cfg, managercfg.ManagerOptions(ctrl.Options{
		Scheme:  testenv.Scheme(),
		Metrics: metricsserver.Options{BindAddress: "0"},
	}))
	if err != nil {
		return nil, err
	}
	if o.OperatorNamespace == "" {
		o.OperatorNamespace = DefaultOperatorNamespace
	}
	opts := controllers.Options{
		OperatorNamespace:       o.OperatorNamespace,
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
		MaxRemovalsPerPass:      o.MaxRemovalsPerPass,
		PassTimeout:             o.PassTimeout,
		ForumEndpointOverride:   o.ForumEndpointOverride,
		InsightsInterval:        o.InsightsInterval,
		Metrics:                 prometheus.NewRegistry(),
		SkipNameValidation:      true,
	}
	if o.ChatRequests != nil {
		opts.Chat = &matrix.Connector{Observer: o.ChatRequests}
	}
	if o.ForumRequests != nil {
		opts.Forum = forum.Engines{&nodebb.Connector{Observer: o.ForumRequests}}
	}
	ctx, cancel := context.WithCancel(ctx)
	if err := controllers.Setup(ctx, mgr, opts); err != nil {
		cancel()
		return nil, err
	}
	m := &Manager{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		if m.err = mgr.Start(ctx); m.err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", m.err)
		}
	}()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		_ = m.Stop()
		return nil, errors.New("the manager's cache did not sync")
	}
	return m, nil
}

// Done is closed once the manager has stopped.
func (m *Manager) Done() <-chan struct{} { return m.done }

// Stop stops the manager, waits until it has, and returns the error it stopped
// with, if any. It is safe to call more than once.
func (m *Manager) Stop() error {
	m.cancel()
	<-m.done
	return m.err
}
