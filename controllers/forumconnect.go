package controllers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/plan"
	"github.com/opencommons/collab-operator/internal/metrics"
)

// Keys of a forum's credentials Secret: a ForumBackend's, or a deployed forum's
// admin Secret once the token is stored there.
const (
	secretForumToken = "token"
	secretForumUID   = "uid"
)

// ForumConnector is a forum engine as the controllers reach it: a client for a
// forum's API, the planner that maps spaces onto its groups and categories, and,
// for the forums the operator deploys, the two calls it makes before it has a
// token.
type ForumConnector interface {
	Connect(ctx context.Context, name, url string, secret *corev1.Secret) (forum.Client, error)
	// Planner is the engine's planner, for deployed forums and ForumBackends
	// alike: a connector serves one engine, and Connect too takes no engine
	// section.
	Planner() forum.Planner
	// Ping checks, without credentials, that the forum's API at url answers.
	Ping(ctx context.Context, url string, hc *http.Client) error
	// MintToken creates an API token with an administrator's login.
	MintToken(ctx context.Context, login forum.Login) (forum.Token, error)
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

// Planner returns NodeBB's planner. NodeBB's rules take no setting from a
// ForumBackend or a deployed forum's spec, so every forum shares it.
func (*NodeBBConnector) Planner() forum.Planner { return plan.New() }

// MintToken creates a master API token as NodeBB's admin panel does (nodebb.MintToken).
func (n *NodeBBConnector) MintToken(ctx context.Context, l forum.Login) (forum.Token, error) {
	return nodebb.MintToken(ctx, l, nil)
}

// Ping asks /api/v3/ping, which NodeBB serves to anyone. The forum is the
// tenant's, so the check follows no redirect (which could send the operator to
// any address) and quotes nothing of the answer.
func (n *NodeBBConnector) Ping(ctx context.Context, url string, hc *http.Client) error {
	c := &http.Client{Timeout: 10 * time.Second}
	if hc != nil {
		cc := *hc
		c = &cc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v3/ping", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("GET /api/v3/ping: %w", nodebb.NoAnswer(err))
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode/100 == 3:
		return fmt.Errorf("GET /api/v3/ping: unexpected redirect (HTTP %d)", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET /api/v3/ping answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// forumSite is what the engine-neutral controllers read of a ForumBackend's
// engine section, so that only this file names the engine.
type forumSite struct {
	// engine names the forum software, for messages.
	engine string
	url    string
	// credentials is the Secret with the operator's token.
	credentials collabv1.SecretReference
}

// forumSiteOf reads a ForumBackend's engine section (the API requires one).
func forumSiteOf(backend *collabv1.ForumBackend) forumSite {
	n := backend.Spec.NodeBB
	if n == nil {
		return forumSite{engine: "the forum"}
	}
	return forumSite{engine: "NodeBB", url: n.URL, credentials: n.CredentialsSecretRef}
}

// connectForumBackend reads a shared forum's ForumBackend and Secret, the Secret
// straight from the API server and only from the credentials namespace.
func connectForumBackend(ctx context.Context, c client.Reader, creds credentials, connector ForumConnector, name string) (forum.Client, *collabv1.ForumBackend, error) {
	backend := &collabv1.ForumBackend{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, backend); err != nil {
		return nil, nil, fmt.Errorf("cannot get ForumBackend %s: %w", name, err)
	}
	site := forumSiteOf(backend)
	secret, err := creds.secret(ctx, "ForumBackend "+name, site.credentials)
	if err != nil {
		return nil, nil, err
	}
	fc, err := connector.Connect(ctx, "ForumBackend/"+name, site.url, secret)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot connect to ForumBackend %s: %w", name, err)
	}
	return fc, backend, nil
}
