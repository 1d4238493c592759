package matrix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
	"github.com/opencommons/collab-operator/internal/fingerprint"
	"github.com/opencommons/collab-operator/internal/metrics"
)

// Keys of a Matrix ChatBackend's credentials Secret.
const (
	SecretAccessToken = "accessToken"
	SecretUsername    = "username"
	SecretPassword    = "password"
)

// errNoMatrix says a ChatBackend has no matrix section.
var errNoMatrix = errors.New("the ChatBackend has no matrix section")

// Connector is the Matrix engine's chat.Connector. It keeps one client per
// backend and credentials, because each password login opens a session on the
// server.
type Connector struct {
	mu      sync.Mutex
	clients map[string]cachedClient
	// Observer, when set, sees every request besides the metrics.
	Observer RequestObserver
}

type cachedClient struct {
	fingerprint string
	client      chat.Client
}

// Serves says whether the backend has a matrix section.
func (*Connector) Serves(backend *collabv1.ChatBackend) bool { return backend.Spec.Matrix != nil }

// Server reads the matrix section.
func (*Connector) Server(backend *collabv1.ChatBackend) chat.Server {
	m := backend.Spec.Matrix
	if m == nil {
		return chat.Server{}
	}
	return chat.Server{Name: m.ServerName, DirectorySpace: m.DirectorySpace, Credentials: m.CredentialsSecretRef,
		Section: "spec.matrix"}
}

// Connect returns the backend's client, building a new one when its URL, server name
// or credentials changed.
func (c *Connector) Connect(_ context.Context, backend *collabv1.ChatBackend, secret *corev1.Secret) (chat.Client, error) {
	spec := backend.Spec.Matrix
	if spec == nil {
		return nil, errNoMatrix
	}
	token, user, pass := string(secret.Data[SecretAccessToken]), string(secret.Data[SecretUsername]), string(secret.Data[SecretPassword])
	if token == "" && (user == "" || pass == "") {
		return nil, fmt.Errorf("%w: a Matrix backend's Secret must hold accessToken, or username and password", chat.ErrNoCredentials)
	}
	fp := fingerprint.Of(spec.HomeserverURL, spec.ServerName, token, user, pass)

	c.mu.Lock()
	defer c.mu.Unlock()
	if cached, ok := c.clients[backend.Name]; ok && cached.fingerprint == fp {
		return cached.client, nil
	}
	cl, err := New(Config{
		HomeserverURL: spec.HomeserverURL,
		ServerName:    spec.ServerName,
		AccessToken:   token,
		Username:      user,
		Password:      pass,
		Observer:      c.observer(backend.Name),
	})
	if err != nil {
		return nil, err
	}
	if c.clients == nil {
		c.clients = map[string]cachedClient{}
	}
	c.clients[backend.Name] = cachedClient{fingerprint: fp, client: cl}
	return cl, nil
}

// Planner returns the Matrix planner for the backend's homeserver: its server
// name, user id template and Owner power level. It holds no session, so it is
// not cached.
func (*Connector) Planner(backend *collabv1.ChatBackend) (chat.Planner, error) {
	spec := backend.Spec.Matrix
	if spec == nil {
		return nil, errNoMatrix
	}
	return plan.New(plan.ConfigFor(spec)), nil
}

func (c *Connector) observer(backend string) RequestObserver {
	return func(method, op string, status int, d time.Duration) {
		metrics.ObserveRequest(backend, op, status, d)
		if c.Observer != nil {
			c.Observer(method, op, status, d)
		}
	}
}

// Operator is the operator's user id: the credentials' username, else
// collab-operator, on the backend's server.
func (*Connector) Operator(backend *collabv1.ChatBackend, secret *corev1.Secret) string {
	user := "collab-operator"
	if u := string(secret.Data[SecretUsername]); u != "" {
		user = u
	}
	if strings.HasPrefix(user, "@") || backend.Spec.Matrix == nil {
		return user
	}
	return "@" + user + ":" + backend.Spec.Matrix.ServerName
}
