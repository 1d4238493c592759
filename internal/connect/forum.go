package connect

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
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

// ToDeployedForum connects to a space's deployed forum with the API token the
// operator keeps in the forum's admin Secret in the space's namespace (the
// forum phase mints it). Its API is reached at endpointOverride when set
// (--forum-endpoint-override), else at the forum's Service in the cluster.
func ToDeployedForum(ctx context.Context, c client.Reader, engines forum.Engines, space *collabv1.CollaborationSpace,
	endpointOverride string) (forum.Client, error) {
	connector, err := engines.ForDeploy(space)
	if err != nil {
		return nil, err
	}
	deployer := connector.Deployer()
	key := client.ObjectKey{Namespace: space.Namespace, Name: deployer.AdminSecretName(space.Name)}
	secret := &corev1.Secret{}
	if err := c.Get(ctx, key, secret); err != nil {
		return nil, fmt.Errorf("cannot read the forum's admin Secret: %w", err)
	}
	if len(secret.Data[forum.SecretToken]) == 0 {
		return nil, fmt.Errorf("the forum's admin Secret %s holds no API token yet", key.Name)
	}
	endpoint := endpointOverride
	if endpoint == "" {
		endpoint = deployer.ServiceURL(space.Name, space.Namespace)
	}
	return connector.Connect(ctx, key.String(), endpoint, secret)
}
