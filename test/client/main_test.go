// Package client checks the product as a person sees it: a real Matrix client
// library (matrix-js-sdk, driven by person.js beside this file) logs in to a real
// Dendrite as a member of each department and as someone in none, with the manager
// started as main.go starts it on a real kube-apiserver.
package client

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/harness"
	"github.com/opencommons/collab-operator/internal/testing/managertest"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

const (
	operatorNamespace = "collab-system"
	chatBackend       = "matrix"
	directoryName     = "Acme"
)

var (
	k8s        client.Client
	homeserver *dendrite.Server
	operator   *matrixuser.User
	// dave owns every space; frank is in engineering, erin in marketing, gina in
	// no department.
	people = map[string]*matrixuser.User{}
	// nodeBin runs person.js in clientDir.
	nodeBin, clientDir string
)

func password(name string) string { return "password-" + name }

// insightsInterval is how often the suite's manager computes the openness
// insights (TestInsightsCountWhatPeopleSaid reads them in status).
const insightsInterval = 5 * time.Second

// The suite's manager, and what startManager starts it again with.
var (
	suiteConfig    *rest.Config
	manager        *managertest.Manager
	managerOptions = managertest.Options{OperatorNamespace: operatorNamespace, MaxConcurrentReconciles: 4,
		MaxRemovalsPerPass: 5, InsightsInterval: insightsInterval}
)

// startManager starts the suite's manager again after a test stopped it, as a
// pod replaced by a rollout or a crash would be: nothing but the cluster and
// the chat server carries over.
// whileStopped stops the suite's manager, runs f, and starts a new manager
// however f ends, so a failure while it is down fails one test, not the
// suite's others.
func whileStopped(t *testing.T, f func()) {
	t.Helper()
	if err := manager.Stop(); err != nil {
		t.Fatal(err)
	}
	defer startManager(t)
	f()
}

func startManager(t *testing.T) {
	t.Helper()
	var err error
	if manager, err = managertest.Start(context.Background(), suiteConfig, managerOptions); err != nil {
		t.Fatalf("starting the manager again: %v", err)
	}
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	harness.SetLogger(zapcore.ErrorLevel)
	if err := findClient(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	suite, err := harness.Start(ctx, harness.Options{Dendrite: &dendrite.Options{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer suite.Stop()
	k8s, homeserver = suite.Client, suite.Homeserver
	for _, name := range []string{"collab-operator", "dave", "frank", "erin", "gina"} {
		id, token, err := homeserver.RegisterUser(ctx, name, password(name), name == "collab-operator")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		people[name] = matrixuser.New(homeserver.URL, id, token)
	}
	operator = people["collab-operator"]
	suiteConfig = suite.Config
	manager, err = managertest.Start(ctx, suiteConfig, managerOptions)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = manager.Stop() }() // the one running then: a test may restart it
	if err := createNamespace(ctx, operatorNamespace); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := createChatBackend(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// createChatBackend points a ChatBackend with a directory space at Dendrite, as a
// platform team would.
func createChatBackend(ctx context.Context) error {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: chatBackend + "-credentials", Namespace: operatorNamespace},
		Data:       map[string][]byte{"accessToken": []byte(operator.Token())},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		return err
	}
	return k8s.Create(ctx, &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: chatBackend},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{
				HomeserverURL:        homeserver.URL,
				ServerName:           homeserver.ServerName,
				CredentialsSecretRef: collabv1.SecretReference{Name: secret.Name},
				DirectorySpace:       &collabv1.DirectorySpace{Name: directoryName},
			},
			PollInterval: metav1.Duration{Duration: 2 * time.Second},
		},
	})
}

func createNamespace(ctx context.Context, name string) error {
	return client.IgnoreAlreadyExists(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
}
