package controllers

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/managercfg"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/harness"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

// operatorNamespace is the operator's namespace in the suite, where the ChatBackend's
// credentials Secret lives.
const operatorNamespace = "collab-system"

// The suite runs one real kube-apiserver + etcd, one real Dendrite and one manager
// for all tests.
var (
	cfg       *rest.Config
	k8sClient client.Client
	// secretRequests records every request the manager made on Secrets.
	secretRequests requestLog
	// forumServer stands in for every deployed forum, at forumAPI.
	forumServer, forumAPI = startForumAPI()
	// matrixWrites counts the manager's requests that change something on Matrix.
	matrixWrites atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	harness.SetLogger(zapcore.ErrorLevel)
	forumServer.AddUser("alice") // she has logged in to the forum once
	// Dendrite keeps its data in a directory of its own, so the healer can
	// restart it with the same rooms and tokens if it wedges.
	dir, err := os.MkdirTemp("", "controllers-dendrite-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	suite, err := harness.Start(context.Background(), harness.Options{Dendrite: &dendrite.Options{Dir: dir}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer suite.Stop()
	cfg, homeserver = suite.Config, suite.Homeserver
	if err := registerPeople(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stopHealer, err := startHealer(homeserver)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stopHealer()
	// The manager stops first (defers run last-in first-out), then Dendrite and
	// the API server, so no pass runs against a server that is going away.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := startManager(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if bad := secretRequests.collections(); len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "the manager listed or watched Secrets: %v\n", bad)
		return 1
	}
	return code
}

// startManager starts the manager as main.go does, with its requests on Secrets
// recorded.
func startManager(ctx context.Context) error {
	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.Wrap(secretRequests.wrap)
	mgr, err := ctrl.NewManager(mgrCfg, managercfg.ManagerOptions(ctrl.Options{
		Scheme:  testenv.Scheme(),
		Metrics: metricsserver.Options{BindAddress: "0"},
	}))
	if err != nil {
		return err
	}
	// Tests read through a direct client, so they see what the API server has now,
	// not what the manager's cache has seen so far.
	if k8sClient, err = client.New(cfg, client.Options{Scheme: testenv.Scheme()}); err != nil {
		return err
	}
	connector := &matrix.Connector{Observer: func(method, _ string, _ int, _ time.Duration) {
		if method != http.MethodGet {
			matrixWrites.Add(1)
		}
	}}
	if err := Setup(ctx, mgr, Options{
		OperatorNamespace:       operatorNamespace,
		ForumEndpointOverride:   forumAPI,
		MaxConcurrentReconciles: 4,
		MaxRemovalsPerPass:      5,
		Chat:                    connector,
		SkipNameValidation:      true,
		// Rooms interrupted creates leave behind are judged quickly here.
		OrphanGrace:  time.Second,
		ReapInterval: time.Second,
	}); err != nil {
		return err
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("cache did not sync")
	}
	return createChatBackend(ctx)
}

// newNamespace creates a namespace of its own for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "dept-"}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatalf("cannot create namespace: %v", err)
	}
	return ns.Name
}

// eventually polls cond until it holds or the timeout passes, then fails with the
// last reason it gave.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	eventuallyWithin(t, 30*time.Second, what, cond)
}

// eventuallyWithin is eventually with another deadline.
func eventuallyWithin(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	wait.Eventually(t, within, what, cond)
}
