package controllers

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

// chatConnection is a backend, a client for it and its engine's planner, ready
// to use.
type chatConnection struct {
	backend *collabv1.ChatBackend
	// server is what the engine-neutral code reads of its engine section.
	server  chat.Server
	client  chat.Client
	planner chat.Planner
}

// connectChat reads a ChatBackend and its Secret and returns a client for it.
// The Secret is read straight from the API server, and only from the credentials
// namespace (see credentials). A changed Secret is picked up on the next poll.
func connectChat(ctx context.Context, c client.Reader, creds credentials, connector chat.Connector, name string) (*chatConnection, error) {
	backend := &collabv1.ChatBackend{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, backend); err != nil {
		return nil, fmt.Errorf("cannot get ChatBackend %s: %w", name, err)
	}
	server := connector.Server(backend)
	secret, err := creds.secret(ctx, "ChatBackend "+name, server.Credentials)
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
	return &chatConnection{backend: backend, server: server, client: cl, planner: planner}, nil
}

// pollInterval is how often a backend is compared with what it should hold.
func (c *chatConnection) pollInterval() time.Duration {
	if d := c.backend.Spec.PollInterval.Duration; d > 0 {
		return d
	}
	return time.Hour
}
