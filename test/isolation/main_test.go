// Package isolation is the adversarial suite of the trust model (docs/security.md):
// two tenants, a victim and an attacker, on a real kube-apiserver and a real
// Dendrite, with the manager started as main.go starts it. Each attack is a named
// subtest that asserts both that the attacker got nothing and that nothing of the
// victim's changed, so a regression names the hole it reopens.
package isolation

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	pollInterval      = 2 * time.Second
)

var (
	k8s        client.Client
	homeserver *dendrite.Server
	operator   *matrixuser.User
	// people on the chat server: vera owns the victim's space and walt is in it;
	// mallory owns the attacker's space and max is in it.
	people = map[string]*matrixuser.User{}
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	harness.SetLogger(zapcore.ErrorLevel)
	ctx := context.Background()
	suite, err := harness.Start(ctx, harness.Options{Dendrite: &dendrite.Options{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer suite.Stop()
	k8s, homeserver = suite.Client, suite.Homeserver
	if err := registerPeople(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mgr, err := managertest.Start(ctx, suite.Config, managertest.Options{
		OperatorNamespace: operatorNamespace, MaxConcurrentReconciles: 4, MaxRemovalsPerPass: 5,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = mgr.Stop() }()
	if err := createNamespace(ctx, operatorNamespace); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := createChatBackend(ctx, chatBackend, "Acme", ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func registerPeople(ctx context.Context) error {
	register := func(name string, admin bool) (*matrixuser.User, error) {
		id, token, err := homeserver.RegisterUser(ctx, name, "password-"+name, admin)
		if err != nil {
			return nil, fmt.Errorf("cannot register %s: %w", name, err)
		}
		return matrixuser.New(homeserver.URL, id, token), nil
	}
	var err error
	if operator, err = register("collab-operator", true); err != nil {
		return err
	}
	for _, name := range []string{"vera", "walt", "mallory", "max"} {
		if people[name], err = register(name, false); err != nil {
			return err
		}
	}
	return nil
}

// createChatBackend stores the operator's token in the operator's namespace and
// points a ChatBackend at Dendrite, as a platform team would.
func createChatBackend(ctx context.Context, name, directory, directoryAlias string) error {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-credentials", Namespace: operatorNamespace},
		Data:       map[string][]byte{"accessToken": []byte(operator.Token())},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		return err
	}
	return k8s.Create(ctx, &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{
				HomeserverURL:        homeserver.URL,
				ServerName:           homeserver.ServerName,
				CredentialsSecretRef: collabv1.SecretReference{Name: secret.Name},
				DirectorySpace:       &collabv1.DirectorySpace{Name: directory, Alias: directoryAlias},
			},
			PollInterval: metav1.Duration{Duration: pollInterval},
		},
	})
}

func createNamespace(ctx context.Context, name string) error {
	return client.IgnoreAlreadyExists(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
}
