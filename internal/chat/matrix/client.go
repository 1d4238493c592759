package matrix

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/opencommons/collab-operator/internal/reqobserve"

	"github.com/opencommons/collab-operator/internal/chat"
)

var _ chat.Client = &Client{}

// RequestObserver sees every HTTP request the client makes, retries included:
// method, a low-cardinality operation name (e.g. "getState", "createRoom"), the
// status code (0 when no response arrived) and how long it took.
type RequestObserver = reqobserve.RequestObserver

// Config says how to reach and authenticate to a homeserver.
type Config struct {
	// HomeserverURL is the base URL of the client-server API.
	HomeserverURL string
	// ServerName is the homeserver's name, used in aliases and "via" hints.
	ServerName string
	// AccessToken authenticates the operator's account. When empty, the client
	// logs in with Username and Password on first use, and again if the server
	// forgets the token.
	AccessToken string
	// Username (local part or full user id) and Password to log in with.
	Username, Password string
	// DeviceID to log in as. A login replaces the earlier session of the same
	// device, so two clients must never share one: they would keep logging each
	// other out. When empty, each Client picks its own random "COLLAB_OPERATOR_…"
	// id (leaving the choice to the server is not safe: Dendrite v0.13.8 then
	// reuses an existing device). An AccessToken in the Secret avoids logins.
	DeviceID string
	// HTTPClient to use; a keep-alive client with a 30s timeout when nil.
	HTTPClient *http.Client
	// Observer, when set, is called after every request.
	Observer RequestObserver
	// MaxRetries bounds the retries of a rate-limited request; 3 when zero.
	MaxRetries int
	// MaxRetryWait is the longest wait asked for by the server that the client
	// sleeps in place; a longer one is returned in the error (see
	// chat.RetryAfter) so the caller requeues instead of holding a worker. 2s when
	// zero.
	MaxRetryWait time.Duration
}

// Client is a chat.Client for one Matrix account. It is safe for concurrent use;
// build one per ChatBackend and keep it, since each password login creates a
// session on the server.
type Client struct {
	base       string
	serverName string
	user, pass string
	deviceID   string
	http       *http.Client
	observer   RequestObserver
	maxRetries int
	maxWait    time.Duration

	mu     sync.Mutex
	token  string
	selfID string
}

// New validates cfg and returns a client. It makes no request: the first call
// logs in if needed, so building a client never fails because the server is down.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.HomeserverURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("matrix: homeserver URL must be an absolute http(s) URL")
	}
	if cfg.ServerName == "" {
		return nil, errors.New("matrix: server name is required")
	}
	if cfg.AccessToken == "" && (cfg.Username == "" || cfg.Password == "") {
		return nil, errors.New("matrix: an access token, or a username and password, is required")
	}
	c := &Client{
		base:       strings.TrimRight(cfg.HomeserverURL, "/"),
		serverName: cfg.ServerName,
		user:       cfg.Username,
		pass:       cfg.Password,
		deviceID:   cfg.DeviceID,
		http:       cfg.HTTPClient,
		observer:   cfg.Observer,
		maxRetries: cfg.MaxRetries,
		maxWait:    cfg.MaxRetryWait,
		token:      cfg.AccessToken,
	}
	c.defaults()
	return c, nil
}

func (c *Client) defaults() {
	if c.deviceID == "" {
		c.deviceID = "COLLAB_OPERATOR_" + rand.Text()[:10]
	}
	if c.http == nil {
		c.http = defaultHTTPClient()
	}
	if c.maxRetries == 0 {
		c.maxRetries = 3
	}
	if c.maxWait == 0 {
		c.maxWait = 2 * time.Second
	}
}

// defaultHTTPClient keeps connections to the homeserver alive between the many
// small requests of a pass.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// Whoami asks the server which account the credentials belong to; it doubles as
// the ChatBackend's credentials check.
func (c *Client) Whoami(ctx context.Context) (string, error) {
	var out struct {
		UserID string `json:"user_id"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, op: "whoami", path: v3 + "/account/whoami"}, &out); err != nil {
		return "", err
	}
	c.mu.Lock()
	c.selfID = out.UserID
	c.mu.Unlock()
	return out.UserID, nil
}

// Versions returns the client-server API versions the server supports.
func (c *Client) Versions(ctx context.Context) ([]string, error) {
	var out struct {
		Versions []string `json:"versions"`
	}
	err := c.do(ctx, call{method: http.MethodGet, op: "versions", path: "/_matrix/client/versions", noAuth: true}, &out)
	return out.Versions, err
}

// self is the operator's user id, asked once.
func (c *Client) self(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.selfID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	return c.Whoami(ctx)
}

// alias is the full alias of a local part on this server.
func (c *Client) alias(localpart string) string {
	return "#" + localpart + ":" + c.serverName
}

// via is the "via" hint of space links: rooms live on this server.
func (c *Client) via() []string { return []string{c.serverName} }
