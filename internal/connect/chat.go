package connect

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

// ChatConnection is a backend, a client for it and its engine's planner, ready
// to use.
type ChatConnection struct {
	Backend *collabv1.ChatBackend
	// Server is what the engine-neutral code reads of its engine section.
	Server  chat.Server
	Client  chat.Client
	Planner chat.Planner
}

// ToChat reads a ChatBackend and its Secret and returns a client for it.
// The Secret is read straight from the API server, and only from the credentials
// namespace (see credentials). A changed Secret is picked up on the next poll.
func ToChat(ctx context.Context, c client.Reader, creds Credentials, connector chat.Connector, name string) (*ChatConnection, error) {
	backend := &collabv1.ChatBackend{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, backend); err != nil {
		return nil, fmt.Errorf("cannot get ChatBackend %s: %w", name, err)
	}
	server := connector.Server(backend)
	secret, err := creds.Secret(ctx, "ChatBackend "+name, server.Credentials)
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
	return &ChatConnection{Backend: backend, Server: server, Client: cl, Planner: planner}, nil
}

// PollInterval is how often a backend is compared with what it should hold.
func (c *ChatConnection) PollInterval() time.Duration {
	if d := c.Backend.Spec.PollInterval.Duration; d > 0 {
		return d
	}
	return time.Hour
}

// OperatorID is the operator's own account, from the backend's status when known.
func (c *ChatConnection) OperatorID(ctx context.Context) (string, error) {
	if id := c.Backend.Status.UserID; id != "" {
		return id, nil
	}
	return c.Client.Whoami(ctx)
}
