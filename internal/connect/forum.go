package connect

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
)

// ForumConnection is a shared forum reached through its ForumBackend: the
// backend as read, a client with its credentials, and its engine's planner.
type ForumConnection struct {
	Backend *collabv1.ForumBackend
	Client  forum.Client
	Planner forum.Planner
}

// ToForumBackend reads a shared forum's ForumBackend and Secret, the Secret
// straight from the API server and only from the credentials namespace, and
// connects through the engine whose section the backend has.
func ToForumBackend(ctx context.Context, c client.Reader, creds Credentials, engines forum.Engines, name string) (*ForumConnection, error) {
	backend := &collabv1.ForumBackend{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, backend); err != nil {
		return nil, fmt.Errorf("cannot get ForumBackend %s: %w", name, err)
	}
	connector, err := engines.ForBackend(backend)
	if err != nil {
		return nil, err
	}
	site := connector.Site(backend)
	secret, err := creds.Secret(ctx, "ForumBackend "+name, site.Credentials)
	if err != nil {
		return nil, err
	}
	fc, err := connector.Connect(ctx, "ForumBackend/"+name, site.URL, secret)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to ForumBackend %s: %w", name, err)
	}
	return &ForumConnection{Backend: backend, Client: fc, Planner: connector.Planner()}, nil
}
