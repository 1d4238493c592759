package nodebb

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/fingerprint"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/deploy"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/plan"
	"github.com/opencommons/collab-operator/internal/metrics"
)

// Connector is NodeBB's forum.Connector. It keeps one client per forum and token.
type Connector struct {
	mu      sync.Mutex
	clients map[string]cachedForum
	// Observer, when set, sees every request besides the metrics.
	Observer RequestObserver
}

type cachedForum struct {
	fingerprint string
	client      forum.Client
}

// Serves implements forum.Connector: the backends with a nodebb section.
func (*Connector) Serves(backend *collabv1.ForumBackend) bool { return backend.Spec.NodeBB != nil }

// Deploys implements forum.Connector.
func (*Connector) Deploys(engine collabv1.ForumEngine) bool {
	return engine == collabv1.ForumEngineNodeBB
}

// Site reads the backend's nodebb section.
func (*Connector) Site(backend *collabv1.ForumBackend) forum.Site {
	n := backend.Spec.NodeBB
	if n == nil {
		return forum.Site{Engine: "the forum"}
	}
	return forum.Site{Engine: "NodeBB", URL: n.URL, Credentials: n.CredentialsSecretRef}
}

// Connect returns a client for the forum at url with the Secret's token.
func (n *Connector) Connect(_ context.Context, name, url string, secret *corev1.Secret) (forum.Client, error) {
	token := string(secret.Data[forum.SecretToken])
	if token == "" {
		return nil, fmt.Errorf("the forum's Secret %s/%s holds no %q", secret.Namespace, secret.Name, forum.SecretToken)
	}
	uid, err := parseUID(secret.Data[forum.SecretUID])
	if err != nil {
		return nil, err
	}
	fp := fingerprint.Of(url, token, strconv.FormatInt(uid, 10))
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.clients[name]; ok && c.fingerprint == fp {
		return c.client, nil
	}
	c, err := New(Config{URL: url, Token: token, UID: uid, Observer: n.observer(name)})
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
		return 0, fmt.Errorf("the forum Secret's %q is not a number", forum.SecretUID)
	}
	return uid, nil
}

func (n *Connector) observer(name string) RequestObserver {
	return func(method, op string, status int, d time.Duration) {
		metrics.ObserveRequest(name, op, status, d)
		if n.Observer != nil {
			n.Observer(method, op, status, d)
		}
	}
}

// Deployer builds NodeBB's workloads for a deployed forum.
func (*Connector) Deployer() forum.Deployer { return deploy.NodeBB{} }

// Planner returns NodeBB's planner. NodeBB's rules take no setting from a
// ForumBackend or a deployed forum's spec, so every forum shares it.
func (*Connector) Planner() forum.Planner { return plan.New() }

// MintToken creates a master API token as NodeBB's admin panel does (MintToken).
func (n *Connector) MintToken(ctx context.Context, l forum.Login) (forum.Token, error) {
	return MintToken(ctx, l, nil)
}

// Ping asks /api/v3/ping, which NodeBB serves to anyone. The forum is the
// tenant's, so the check follows no redirect (which could send the operator to
// any address) and quotes nothing of the answer.
func (n *Connector) Ping(ctx context.Context, url string, hc *http.Client) error {
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
		return fmt.Errorf("GET /api/v3/ping: %w", NoAnswer(err))
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
