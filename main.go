// Command manager runs the collab-operator controllers.
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers"
	"github.com/opencommons/collab-operator/internal/managercfg"
)

// leaderElectionID is fixed so every replica of the manager contends for one lease.
// A shard's manager (--watch-label-selector) holds a lease of its own, this name
// with a hash of its selector appended (managercfg.ShardLeaderElectionID).
const leaderElectionID = "collab-operator.collab.opencommons.io"

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(collabv1.AddToScheme(scheme))
}

type options struct {
	metricsAddr          string
	probeAddr            string
	pprofAddr            string
	secureMetrics        bool
	enableHTTP2          bool
	leaderElect          bool
	leaderElectNamespace string
	leaseDuration        time.Duration
	renewDeadline        time.Duration
	retryPeriod          time.Duration
	maxConcurrent        int
	maxRemovalsPerPass   int
	transientGrace       time.Duration
	orphanGrace          time.Duration
	reapInterval         time.Duration
	insightsInterval     time.Duration
	operatorNamespace    string
	credentialsNamespace string
	forumEndpoint        string
	watchLabelSelector   string
	backendControllers   bool
	// shard is watchLabelSelector parsed.
	shard labels.Selector
	zap   zap.Options
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080",
		"The address the metrics endpoint binds to. Use :8443 with --metrics-secure for HTTPS, or 0 to disable.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	flag.StringVar(&o.pprofAddr, "pprof-bind-address", "",
		"The address Go's profiles are served on (/debug/pprof/), e.g. 127.0.0.1:8082; off when empty.")
	flag.BoolVar(&o.secureMetrics, "metrics-secure", false,
		"Serve metrics over HTTPS with authentication and authorization by the API server.")
	flag.BoolVar(&o.enableHTTP2, "enable-http2", false,
		"Enable HTTP/2 for the metrics server (off by default: HTTP/2 Stream Cancellation and Rapid Reset CVEs).")
	flag.BoolVar(&o.leaderElect, "leader-elect", false,
		"Enable leader election, so only one replica of the manager is active.")
	flag.StringVar(&o.leaderElectNamespace, "leader-election-namespace", "",
		"The namespace of the leader election Lease (default: the pod's own namespace; required outside a cluster).")
	// The defaults are controller-runtime's.
	flag.DurationVar(&o.leaseDuration, "leader-elect-lease-duration", 15*time.Second,
		"How long a standby replica waits, after the leader's last renewal, before it takes the lease over.")
	flag.DurationVar(&o.renewDeadline, "leader-elect-renew-deadline", 10*time.Second,
		"How long the leader keeps trying to renew its lease before it gives up leading and exits; below the lease duration.")
	flag.DurationVar(&o.retryPeriod, "leader-elect-retry-period", 2*time.Second,
		"How often the leader renews and a standby replica tries to take the lease.")
	flag.IntVar(&o.maxConcurrent, "max-concurrent-reconciles", 4,
		"How many spaces are reconciled at once. Chat servers serialise room creation, so more rarely helps.")
	flag.DurationVar(&o.transientGrace, "transient-fault-grace", 2*time.Minute,
		"How long a Ready space stays Ready while a chat server or forum fails in passing (5xx, no answer, rate limit); the fault shows in Reconciling meanwhile.")
	flag.DurationVar(&o.orphanGrace, "orphan-grace", 2*time.Minute,
		"How old a room an interrupted create left behind must be before the reaper adopts or removes it.")
	flag.DurationVar(&o.reapInterval, "reap-interval", 5*time.Minute,
		"How often each ChatBackend looks for rooms interrupted creates left behind.")
	flag.DurationVar(&o.insightsInterval, "insights-interval", 5*time.Minute,
		"How often the openness insights are computed, from the messages the chat servers' streams counted, into each space's status.insights and the metrics; 0 turns them off (and the streams carry no messages).")
	flag.IntVar(&o.maxRemovalsPerPass, "max-member-removals", 5,
		"With memberPolicy Authoritative, the most accounts removed from one space per hour (chat and forum together); "+
			"the rest are held back until the hour passes or the space's approve-removals annotation lets them go.")
	flag.StringVar(&o.operatorNamespace, "operator-namespace", envOr("POD_NAMESPACE", "collab-operator-system"),
		"The operator's namespace, admitted by each deployed forum's NetworkPolicy.")
	flag.StringVar(&o.credentialsNamespace, "credentials-namespace", "",
		"The only namespace backends' credentials Secrets are read from (default: --operator-namespace). "+
			"A credentialsSecretRef naming another namespace is refused.")
	flag.StringVar(&o.forumEndpoint, "forum-endpoint-override", "",
		"Reach every deployed forum's API at this URL instead of its Service. Only for local clusters whose pods do not really run (make dev).")
	flag.StringVar(&o.watchLabelSelector, "watch-label-selector", "",
		"Cache and reconcile only the CollaborationSpaces whose labels match this selector, as one shard of several managers, "+
			"e.g. collab.opencommons.io/shard=shard-a, or !collab.opencommons.io/shard for the main manager; every space when empty. "+
			"The leader election lease is named after the selector.")
	flag.BoolVar(&o.backendControllers, "backend-controllers", true,
		"Run the controllers of ChatBackends, ForumBackends and PeopleDirectories as a whole: their status, the directory space, "+
			"the orphan room reaper, backend protection. Exactly one manager of a sharded operator runs them; shards run with false.")
	o.zap = zap.Options{Development: false}
	o.zap.BindFlags(flag.CommandLine)
	flag.Parse()
	return o
}

func main() {
	o := parseFlags()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&o.zap)))
	shard, err := managercfg.ParseShardSelector(o.watchLabelSelector)
	if err != nil {
		setupLog.Error(err, "Invalid flag")
		os.Exit(1)
	}
	o.shard = shard
	if soft, err := managercfg.SetSoftMemoryLimit(); err != nil {
		setupLog.Error(err, "Invalid environment")
		os.Exit(1)
	} else if soft > 0 {
		setupLog.Info("Go's soft memory limit set below the container's", "bytes", soft)
	}
	if managercfg.Sharded(shard) {
		setupLog.Info("Running as a shard", "watchLabelSelector", shard.String(),
			"leaderElectionID", managercfg.ShardLeaderElectionID(leaderElectionID, shard), "backendControllers", o.backendControllers)
	}
	ctx := ctrl.SetupSignalHandler()

	cfg := managercfg.ReconnectingConfig(ctrl.GetConfigOrDie(), ctrl.Log.WithName("apiserver"))
	mgr, err := ctrl.NewManager(cfg, managerOptions(o))
	if err != nil {
		setupLog.Error(err, "Unable to create manager")
		os.Exit(1)
	}
	if err := controllers.Setup(ctx, mgr, controllers.Options{
		OperatorNamespace:       o.operatorNamespace,
		CredentialsNamespace:    o.credentialsNamespace,
		ForumEndpointOverride:   o.forumEndpoint,
		MaxConcurrentReconciles: o.maxConcurrent,
		MaxRemovalsPerPass:      o.maxRemovalsPerPass,
		TransientGrace:          o.transientGrace,
		OrphanGrace:             o.orphanGrace,
		ReapInterval:            o.reapInterval,
		InsightsInterval:        o.insightsInterval,
		Shard:                   o.shard,
		SpacesOnly:              !o.backendControllers,
	}); err != nil {
		setupLog.Error(err, "Unable to set up controllers")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Unable to set up ready check")
		os.Exit(1)
	}
	setupLog.Info("Starting manager")
	if err := mgr.Start(ctx); err != nil {
		setupLog.Error(err, "Manager stopped with an error")
		os.Exit(1)
	}
}

func managerOptions(o options) ctrl.Options {
	var tlsOpts []func(*tls.Config)
	if !o.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	return managercfg.ShardCacheOptions(managercfg.ManagerOptions(ctrl.Options{
		Scheme: scheme,
		Metrics: metricsserver.Options{
			BindAddress:   o.metricsAddr,
			SecureServing: o.secureMetrics,
			TLSOpts:       tlsOpts,
		},
		HealthProbeBindAddress:  o.probeAddr,
		PprofBindAddress:        o.pprofAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        managercfg.ShardLeaderElectionID(leaderElectionID, o.shard),
		LeaderElectionNamespace: o.leaderElectNamespace,
		LeaseDuration:           &o.leaseDuration,
		RenewDeadline:           &o.renewDeadline,
		RetryPeriod:             &o.retryPeriod,
	}), o.shard)
}

// envOr returns the environment variable's value, or def when it is unset.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
