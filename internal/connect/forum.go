package connect

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
)

// ToForumBackend reads a shared forum's ForumBackend and Secret, the Secret
// straight from the API server and only from the credentials namespace.
func ToForumBackend(ctx context.Context, c client.Reader, creds Credentials, connector forum.Connector, name string) (forum.Client, *collabv1.ForumBackend, error) {
	backend := &collabv1.ForumBackend{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, backend); err != nil {
		return nil, nil, fmt.Errorf("cannot get ForumBackend %s: %w", name, err)
	}
	site := connector.Site(backend)
	secret, err := creds.Secret(ctx, "ForumBackend "+name, site.Credentials)
	if err != nil {
		return nil, nil, err
	}
	fc, err := connector.Connect(ctx, "ForumBackend/"+name, site.URL, secret)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot connect to ForumBackend %s: %w", name, err)
	}
	return fc, backend, nil
}
