// Package controllers assembles the manager: Setup registers one controller per
// kind of the collab.opencommons.io API (space, chatbackend with its stream,
// forumbackend, peopledirectory, backendprotection), each in a package of its
// own; internal/managercfg holds the cache, shard and dialer settings they
// share. Its tests run the assembled manager against a real API server and
// Dendrite.
package controllers

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/opencommons/collab-operator/controllers/backendprotection"
	"github.com/opencommons/collab-operator/controllers/chatbackend"
	"github.com/opencommons/collab-operator/controllers/chatbackend/reaper"
	"github.com/opencommons/collab-operator/controllers/chatbackend/stream"
	"github.com/opencommons/collab-operator/controllers/forumbackend"
	"github.com/opencommons/collab-operator/controllers/openness"
	"github.com/opencommons/collab-operator/controllers/peopledirectory"
	"github.com/opencommons/collab-operator/controllers/space"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/directory"
	"github.com/opencommons/collab-operator/internal/engines"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/managercfg"
	"github.com/opencommons/collab-operator/internal/spacepass"
	"github.com/opencommons/collab-operator/internal/spacepass/forumphase"
	"github.com/opencommons/collab-operator/internal/uninstall"
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
	// Chat connects to chat servers; every engine of internal/engines when nil.
	Chat chat.Connector
	// BackendChat is the ChatBackend reconciler's connector; Chat when nil. (The
	// benchmark gives each reconciler its own, to count their requests apart.)
	BackendChat chat.Connector
	// Forum connects to forums' APIs; the forum engine of internal/engines when nil.
	Forum forum.Engines
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
	// Shard is --watch-label-selector: the spaces this manager's cache holds
	// (ShardCacheOptions); every space when nil or empty. A sharded manager's
	// backend controllers read the spaces of every shard (AllShards).
	Shard labels.Selector
	// InsightsInterval is how often the openness insights are computed into
	// the spaces' status.insights and the metrics (--insights-interval); never
	// when 0. InsightsMaxPages bounds the history requests that read a room's
	// past when a stream starts (100 messages each); 20 when 0.
	InsightsInterval time.Duration
	InsightsMaxPages int
	// SpacesOnly is --backend-controllers=false: another manager does what
	// concerns a backend as a whole (status, directory, reaper, protection);
	// this one runs only its spaces, its own /sync streams (StreamsOnly) and the
	// people directories' resolution its spaces read (ResolveOnly). See shard.go.
	SpacesOnly bool
}

// Setup registers the reconcilers of spaces and of both kinds of backend, and the
// spaces' metrics, with the manager.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	if o.CredentialsNamespace == "" {
		o.CredentialsNamespace = o.OperatorNamespace
	}
	if o.Chat == nil {
		o.Chat = engines.Chat()
	}
	if o.BackendChat == nil {
		o.BackendChat = o.Chat
	}
	if o.Forum == nil {
		o.Forum = engines.Forum()
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
	recorder, err := managercfg.EventRecorder(mgr, "collab-operator")
	if err != nil {
		return err
	}
	streams := stream.New(mgr.GetClient())
	if err := mgr.Add(streams); err != nil {
		return err
	}
	spaces := &spacepass.Pass{
		Client:               mgr.GetClient(),
		Scheme:               mgr.GetScheme(),
		Recorder:             recorder,
		APIReader:            mgr.GetAPIReader(),
		CredentialsNamespace: o.CredentialsNamespace,
		Chat:                 o.Chat,
		Forum: forumphase.Settings{
			OperatorNamespace: o.OperatorNamespace,
			EndpointOverride:  o.ForumEndpointOverride,
			HTTPClient:        o.ForumHTTPClient,
		},
		Forums:             o.Forum,
		MaxRemovalsPerPass: o.MaxRemovalsPerPass,
		Directories:        o.Directories,
		Streams:            streams,
		TransientGrace:     o.TransientGrace,
		PassTimeout:        o.PassTimeout,
	}
	if err := space.Setup(ctx, mgr, spaces, streams, opts(o.MaxConcurrentReconciles)); err != nil {
		return err
	}
	if err := o.Metrics.Register(space.NewCollector(mgr.GetClient())); err != nil {
		return err
	}
	return setupBackends(ctx, mgr, o, opts, recorder, streams)
}

// setupBackends registers the reconcilers of ChatBackends, ForumBackends and
// PeopleDirectories and the backend protection; in a shard (SpacesOnly) only
// their per-manager parts (internal/managercfg/shard.go).
func setupBackends(ctx context.Context, mgr ctrl.Manager, o Options, opts func(int) controller.Options,
	recorder events.EventRecorder, streams *stream.Streams) error {
	// What a backend controller decides from every space, it reads across shards.
	allSpaces := managercfg.AllShards(mgr.GetClient(), mgr.GetAPIReader(), o.Shard)
	if !o.SpacesOnly {
		if err := backendprotection.Setup(mgr, allSpaces, recorder, opts(0)); err != nil {
			return err
		}
		// The insights count across departments, so they are computed where
		// every shard's spaces are read.
		if o.InsightsInterval > 0 {
			streams.CountMessages, streams.CountPages = true, o.InsightsMaxPages
			if err := mgr.Add(&openness.Refresher{Client: allSpaces, Chat: o.Chat, CredentialsNamespace: o.CredentialsNamespace,
				Interval: o.InsightsInterval, Counters: streams, Forum: o.Forum, ForumEndpointOverride: o.ForumEndpointOverride}); err != nil {
				return err
			}
		}
	}
	uninstalling := uninstall.Check{Reader: mgr.GetAPIReader(), OperatorNamespace: o.OperatorNamespace}
	backends := &chatbackend.Reconciler{
		Client:               allSpaces,
		Recorder:             recorder,
		APIReader:            mgr.GetAPIReader(),
		CredentialsNamespace: o.CredentialsNamespace,
		Chat:                 o.BackendChat,
		Uninstall:            uninstalling,
		Streams:              streams,
		Reaper: &reaper.Reaper{Client: allSpaces, Recorder: recorder, Uninstall: uninstalling, Streams: streams,
			Grace: o.OrphanGrace, Interval: o.ReapInterval},
		StreamsOnly: o.SpacesOnly,
	}
	streams.ReadOnly = o.SpacesOnly
	if err := backends.SetupWithManager(ctx, mgr, opts(0)); err != nil {
		return err
	}
	directories := &peopledirectory.Reconciler{
		Client:               allSpaces,
		Recorder:             recorder,
		APIReader:            mgr.GetAPIReader(),
		CredentialsNamespace: o.CredentialsNamespace,
		Registry:             o.Directories,
	}
	if o.SpacesOnly {
		// Its own spaces' groups, resolved for them alone; the status is the
		// backend manager's, which resolves every shard's groups.
		directories.Client, directories.ResolveOnly, directories.Wake = mgr.GetClient(), true, streams.Wake
	}
	if err := directories.SetupWithManager(mgr, opts(0)); err != nil {
		return err
	}
	if o.SpacesOnly {
		return nil
	}
	forums := &forumbackend.Reconciler{
		Client:               mgr.GetClient(),
		APIReader:            mgr.GetAPIReader(),
		CredentialsNamespace: o.CredentialsNamespace,
		Forum:                o.Forum,
	}
	return forums.SetupWithManager(mgr, opts(0))
}
