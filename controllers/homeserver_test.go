package controllers

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// testBackend is the ChatBackend every chat test uses; it polls often so drift
// tests do not wait long.
const (
	testBackend      = "matrix"
	testPollInterval = 2 * time.Second
)

var (
	homeserver *dendrite.Server
	// operator is the operator's own account; people are the users tests act as.
	operator *matrixuser.User
	people   = map[string]*matrixuser.User{}
)

// registerPeople registers the operator's account and the people tests act as
// on the suite's homeserver.
func registerPeople(ctx context.Context) error {
	var err error
	if operator, err = register(ctx, "collab-operator", true); err != nil {
		return err
	}
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin", "frank", "gina"} {
		if people[name], err = register(ctx, name, false); err != nil {
			return err
		}
	}
	return nil
}

// startHealer probes Dendrite every 3 s and restarts it if it wedges
// (dendrite.Healer); the returned func ends the healer and waits for it.
func startHealer(hs *dendrite.Server) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	healer, err := dendrite.NewHealer(ctx, hs)
	if err != nil {
		cancel()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		healer.Run(ctx, 3*time.Second, func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "healer: "+format+"\n", args...)
		})
	}()
	return func() { cancel(); <-done }, nil
}

func register(ctx context.Context, localpart string, admin bool) (*matrixuser.User, error) {
	id, token, err := homeserver.RegisterUser(ctx, localpart, "password-"+localpart, admin)
	if err != nil {
		return nil, fmt.Errorf("cannot register %s: %w", localpart, err)
	}
	return matrixuser.New(homeserver.URL, id, token), nil
}

// createChatBackend stores the operator's token in a Secret in the operator's
// namespace and points a ChatBackend at the homeserver, as a platform team would. The
// reference leaves the namespace out: it is the operator's.
func createChatBackend(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}
	if err := k8sClient.Create(ctx, ns); err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "matrix-credentials", Namespace: ns.Name},
		Data:       map[string][]byte{"accessToken": []byte(operator.Token())},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		return err
	}
	return k8sClient.Create(ctx, &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: testBackend},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{
				HomeserverURL:        homeserver.URL,
				ServerName:           homeserver.ServerName,
				CredentialsSecretRef: collabv1.SecretReference{Name: secret.Name},
				DirectorySpace:       &collabv1.DirectorySpace{Name: "Acme"},
			},
			PollInterval: metav1.Duration{Duration: testPollInterval},
		},
	})
}

// person returns a test user.
func person(t *testing.T, name string) *matrixuser.User {
	t.Helper()
	u, ok := people[name]
	if !ok {
		t.Fatalf("no test user %s", name)
	}
	return u
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
