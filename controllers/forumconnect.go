package controllers

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/metrics"
)

// Keys of a forum's credentials Secret: a ForumBackend's, or a deployed forum's
// admin Secret once the token is stored there.
const (
	secretForumToken = "token"
	secretForumUID   = "uid"
)

// ForumConnector builds a client for a forum's API.
type ForumConnector interface {
	Connect(ctx context.Context, name, url string, secret *corev1.Secret) (forum.Client, error)
}

// NodeBBConnector connects to NodeBB forums, keeping one client per forum and token.
type NodeBBConnector struct {
	mu      sync.Mutex
	clients map[string]cachedForum
	// Observer, when set, sees every request besides the metrics.
	Observer nodebb.RequestObserver
}

type cachedForum struct {
	fingerprint string
	client      forum.Client
}

// Connect returns a client for the forum at url with the Secret's token.
func (n *NodeBBConnector) Connect(_ context.Context, name, url string, secret *corev1.Secret) (forum.Client, error) {
	token := string(secret.Data[secretForumToken])
	if token == "" {
		return nil, fmt.Errorf("the forum's Secret %s/%s holds no %q", secret.Namespace, secret.Name, secretForumToken)
	}
	uid, err := parseUID(secret.Data[secretForumUID])
	if err != nil {
		return nil, err
	}
	fp := fingerprint(url, token, strconv.FormatInt(uid, 10))
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.clients[name]; ok && c.fingerprint == fp {
		return c.client, nil
	}
	c, err := nodebb.New(nodebb.Config{URL: url, Token: token, UID: uid, Observer: n.observer(name)})
	if err != nil {
		return nil, err
	}
	if n.clients == nil {
		n.clients = map[string]cachedForum{}
	}
	n.clients[name] = cachedForum{fingerprint: fp, client: c}
	return c, nil
}

func parseUID(raw []byte) (int64, error) {
	if len(raw) == 0 {
		return 0, nil
	}
	uid, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the forum Secret's %q is not a number", secretForumUID)
	}
	return uid, nil
}

func (n *NodeBBConnector) observer(name string) nodebb.RequestObserver {
	return func(method, op string, status int, d time.Duration) {
		metrics.ObserveRequest(name, op, status, d)
		if n.Observer != nil {
			n.Observer(method, op, status, d)
		}
	}
}

// connectForumBackend reads a shared forum's ForumBackend and Secret, the Secret
// straight from the API server and only from the credentials namespace.
func connectForumBackend(ctx context.Context, c client.Reader, creds credentials, connector ForumConnector, name string) (forum.Client, *collabv1.ForumBackend, error) {
	backend := &collabv1.ForumBackend{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, backend); err != nil {
		return nil, nil, fmt.Errorf("cannot get ForumBackend %s: %w", name, err)
	}
	secret, err := creds.secret(ctx, "ForumBackend "+name, backend.Spec.NodeBB.CredentialsSecretRef)
	if err != nil {
		return nil, nil, err
	}
	fc, err := connector.Connect(ctx, "ForumBackend/"+name, backend.Spec.NodeBB.URL, secret)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot connect to ForumBackend %s: %w", name, err)
	}
	return fc, backend, nil
}
