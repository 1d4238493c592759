package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
	"github.com/opencommons/collab-operator/internal/metrics"
)

// Keys of a chat backend's credentials Secret.
const (
	secretAccessToken = "accessToken"
	secretUsername    = "username"
	secretPassword    = "password"
)

// errNoCredentials says the Secret has none of the keys; the message names the keys,
// never a value.
var errNoCredentials = errors.New("the credentials Secret must hold accessToken, or username and password")

// errNoMatrix says a ChatBackend has no engine section this connector serves.
var errNoMatrix = errors.New("the ChatBackend has no matrix section")

// ChatConnector gives the controllers what they need of a chat backend's engine:
// a client built from its spec and credentials, and the planner that maps spaces
// onto its rooms, configured from its engine section.
type ChatConnector interface {
	Connect(ctx context.Context, backend *collabv1.ChatBackend, secret *corev1.Secret) (chat.Client, error)
	Planner(backend *collabv1.ChatBackend) (chat.Planner, error)
}

// MatrixConnector connects to Matrix homeservers. It keeps one client per backend
// and credentials, because each password login opens a session on the server.
type MatrixConnector struct {
	mu      sync.Mutex
	clients map[string]cachedClient
	// Observer, when set, sees every request besides the metrics.
	Observer matrix.RequestObserver
}

type cachedClient struct {
	fingerprint string
	client      chat.Client
}

// Connect returns the backend's client, building a new one when its URL, server name
// or credentials changed.
func (m *MatrixConnector) Connect(_ context.Context, backend *collabv1.ChatBackend, secret *corev1.Secret) (chat.Client, error) {
	spec := backend.Spec.Matrix
	if spec == nil {
		return nil, errNoMatrix
	}
	token, user, pass := string(secret.Data[secretAccessToken]), string(secret.Data[secretUsername]), string(secret.Data[secretPassword])
	if token == "" && (user == "" || pass == "") {
		return nil, errNoCredentials
	}
	fp := fingerprint(spec.HomeserverURL, spec.ServerName, token, user, pass)

	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.clients[backend.Name]; ok && c.fingerprint == fp {
		return c.client, nil
	}
	c, err := matrix.New(matrix.Config{
		HomeserverURL: spec.HomeserverURL,
		ServerName:    spec.ServerName,
		AccessToken:   token,
		Username:      user,
		Password:      pass,
		Observer:      m.observer(backend.Name),
	})
	if err != nil {
		return nil, err
	}
	if m.clients == nil {
		m.clients = map[string]cachedClient{}
	}
	m.clients[backend.Name] = cachedClient{fingerprint: fp, client: c}
	return c, nil
}

// Planner returns the Matrix planner for the backend's homeserver: its server
// name, user id template and Owner power level. It holds no session, so it is
// not cached.
func (*MatrixConnector) Planner(backend *collabv1.ChatBackend) (chat.Planner, error) {
	spec := backend.Spec.Matrix
	if spec == nil {
		return nil, errNoMatrix
	}
	return plan.New(plan.ConfigFor(spec)), nil
}

func (m *MatrixConnector) observer(backend string) matrix.RequestObserver {
	return func(method, op string, status int, d time.Duration) {
		metrics.ObserveRequest(backend, op, status, d)
		if m.Observer != nil {
			m.Observer(method, op, status, d)
		}
	}
}

// fingerprint identifies a configuration without keeping the secrets themselves.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// chatServer is what the engine-neutral controllers read of a ChatBackend's
// engine section, so that only this file names the engine.
type chatServer struct {
	// name is the server's name: the domain of its user ids and aliases.
	name string
	// directorySpace, when set, is the space that lists the Open spaces.
	directorySpace *collabv1.DirectorySpace
	// credentials is the Secret with the operator's credentials.
	credentials collabv1.SecretReference
}

// serverOf reads a ChatBackend's engine section (the API requires one).
func serverOf(backend *collabv1.ChatBackend) chatServer {
	m := backend.Spec.Matrix
	if m == nil {
		return chatServer{}
	}
	return chatServer{name: m.ServerName, directorySpace: m.DirectorySpace, credentials: m.CredentialsSecretRef}
}

// chatConnection is a backend, a client for it and its engine's planner, ready
// to use.
type chatConnection struct {
	backend *collabv1.ChatBackend
	client  chat.Client
	planner chat.Planner
}

// connectChat reads a ChatBackend and its Secret and returns a client for it.
// The Secret is read straight from the API server, and only from the credentials
// namespace (see credentials). A changed Secret is picked up on the next poll.
func connectChat(ctx context.Context, c client.Reader, creds credentials, connector ChatConnector, name string) (*chatConnection, error) {
	backend := &collabv1.ChatBackend{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, backend); err != nil {
		return nil, fmt.Errorf("cannot get ChatBackend %s: %w", name, err)
	}
	secret, err := creds.secret(ctx, "ChatBackend "+name, serverOf(backend).credentials)
	if err != nil {
		return nil, err
	}
	cl, err := connector.Connect(ctx, backend, secret)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to ChatBackend %s: %w", name, err)
	}
	planner, err := connector.Planner(backend)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to ChatBackend %s: %w", name, err)
	}
	return &chatConnection{backend: backend, client: cl, planner: planner}, nil
}

// pollInterval is how often a backend is compared with what it should hold.
func (c *chatConnection) pollInterval() time.Duration {
	if d := c.backend.Spec.PollInterval.Duration; d > 0 {
		return d
	}
	return time.Hour
}
