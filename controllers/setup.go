package controllers

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/opencommons/collab-operator/internal/directory"
)

// Options are the settings main.go's flags give the controllers. A test suite fills
// them to start the manager as main.go does: ctrl.NewManager(cfg,
// ManagerOptions(...)), then Setup.
type Options struct {
	// OperatorNamespace is the operator's own namespace (--operator-namespace),
	// admitted by each deployed forum's NetworkPolicy.
	OperatorNamespace string
	// CredentialsNamespace is the one namespace backends' credentials Secrets are
	// read from (--credentials-namespace); OperatorNamespace when empty.
	CredentialsNamespace string
	// ForumEndpointOverride, when set, is where every deployed forum's API is reached
	// instead of its Service (--forum-endpoint-override).
	ForumEndpointOverride string
	// MaxConcurrentReconciles is how many spaces are reconciled at once; one when 0.
	MaxConcurrentReconciles int
	// MaxRemovalsPerPass caps the accounts removed from one space per hour
	// (chat kicks and forum group removals together) under memberPolicy
	// Authoritative; 0 means no cap. (The name predates the hourly budget.)
	MaxRemovalsPerPass int
	// Directories receives what PeopleDirectories resolve; a new one when nil.
	Directories *directory.Registry
	// Chat connects to chat servers; a MatrixConnector when nil.
	Chat ChatConnector
	// BackendChat is the ChatBackend reconciler's connector; Chat when nil. (The
	// benchmark gives each reconciler its own, to count their requests apart.)
	BackendChat ChatConnector
	// Forum connects to forums' APIs; a NodeBBConnector when nil.
	Forum ForumConnector
	// ForumHTTPClient checks that deployed forums answer; a client with a 10 s
	// timeout when nil.
	ForumHTTPClient *http.Client
	// Metrics is where the spaces' collector is registered; controller-runtime's
	// registry, served at /metrics, when nil.
	Metrics prometheus.Registerer
	// OrphanGrace and ReapInterval tune the reaper of rooms interrupted creates
	// left behind: how old such a room must be, how often to look; 2m and 5m
	// when 0.
	OrphanGrace, ReapInterval time.Duration
	// TransientGrace is how long a converged space keeps Ready=True through a
	// server's passing fault (--transient-fault-grace); 2m when 0.
	TransientGrace time.Duration
	// PassTimeout bounds one pass over a space, so a slow server cannot hold a
	// worker; 2m when 0.
	PassTimeout time.Duration
	// SkipNameValidation lets one process start more than one manager (tests).
	SkipNameValidation bool
}

// Setup registers the reconcilers of spaces and of both kinds of backend, and the
// spaces' metrics, with the manager.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	if o.CredentialsNamespace == "" {
		o.CredentialsNamespace = o.OperatorNamespace
	}
	if o.Chat == nil {
		o.Chat = &MatrixConnector{}
	}
	if o.BackendChat == nil {
		o.BackendChat = o.Chat
	}
	if o.Forum == nil {
		o.Forum = &NodeBBConnector{}
	}
	if o.Metrics == nil {
		o.Metrics = crmetrics.Registry
	}
	if o.Directories == nil {
		o.Directories = directory.NewRegistry()
	}
	opts := func(workers int) controller.Options {
		c := controller.Options{MaxConcurrentReconciles: workers}
		if o.SkipNameValidation {
			c.SkipNameValidation = &o.SkipNameValidation
		}
		return c
	}
	recorder := mgr.GetEventRecorder("collab-operator")
	streams := NewSyncStreams(mgr.GetClient())
	if err := mgr.Add(streams); err != nil {
		return err
	}
	spaces := &CollaborationSpaceReconciler{
		Client:               mgr.GetClient(),
		Scheme:               mgr.GetScheme(),
		Recorder:             recorder,
		APIReader:            mgr.GetAPIReader(),
		CredentialsNamespace: o.CredentialsNamespace,
		Chat:                 o.Chat,
		Forum: ForumSettings{
			OperatorNamespace: o.OperatorNamespace,
			EndpointOverride:  o.ForumEndpointOverride,
			HTTPClient:        o.ForumHTTPClient,
		},
		ForumConnector:     o.Forum,
		MaxRemovalsPerPass: o.MaxRemovalsPerPass,
		Directories:        o.Directories,
		Streams:            streams,
		TransientGrace:     o.TransientGrace,
		PassTimeout:        o.PassTimeout,
	}
	if err := spaces.SetupWithManager(ctx, mgr, opts(o.MaxConcurrentReconciles)); err != nil {
		return err
	}
	if err := o.Metrics.Register(NewSpaceCollector(mgr.GetClient())); err != nil {
		return err
	}
	if err := setupBackendProtection(mgr, recorder, opts(0)); err != nil {
		return err
	}
	backends := &ChatBackendReconciler{
		Client:               mgr.GetClient(),
		Recorder:             recorder,
		APIReader:            mgr.GetAPIReader(),
		CredentialsNamespace: o.CredentialsNamespace,
		Chat:                 o.BackendChat,
		Uninstall:            uninstallCheck{reader: mgr.GetAPIReader(), operatorNamespace: o.OperatorNamespace},
		Streams:              streams,
		Reaper:               orphanReaper{grace: o.OrphanGrace, interval: o.ReapInterval},
	}
	if err := backends.SetupWithManager(ctx, mgr, opts(0)); err != nil {
		return err
	}
	forums := &ForumBackendReconciler{
		Client:               mgr.GetClient(),
		APIReader:            mgr.GetAPIReader(),
		CredentialsNamespace: o.CredentialsNamespace,
		Forum:                o.Forum,
	}
	if err := forums.SetupWithManager(mgr, opts(0)); err != nil {
		return err
	}
	directories := &PeopleDirectoryReconciler{
		Client:               mgr.GetClient(),
		Recorder:             recorder,
		APIReader:            mgr.GetAPIReader(),
		CredentialsNamespace: o.CredentialsNamespace,
		Registry:             o.Directories,
	}
	return directories.SetupWithManager(mgr, opts(0))
}
