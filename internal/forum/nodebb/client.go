package nodebb

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/opencommons/collab-operator/internal/reqobserve"

	"github.com/opencommons/collab-operator/internal/forum"
)

var _ forum.Client = &Client{}

// RequestObserver sees every HTTP request the client makes: method, a
// low-cardinality operation name (e.g. "getCategory", "grantPrivilege"), the
// status code (0 when no response arrived) and how long it took.
type RequestObserver = reqobserve.RequestObserver

// Config says how to reach and authenticate to a NodeBB forum.
type Config struct {
	// URL of the forum, e.g. "https://forum.example.org" or, when NodeBB runs
	// under a path, "https://example.org/forum". The API is under URL/api/v3.
	URL string
	// Token is an administrator's API token.
	Token string
	// UID is the user a master token acts for (`_uid`); 1, the first
	// administrator NodeBB's installer makes, when zero.
	UID int64
	// HTTPClient to use; a keep-alive client with a 30s timeout when nil. Do not
	// give it a cookie jar. Its CheckRedirect is replaced: the client never
	// follows a redirect.
	HTTPClient *http.Client
	// Observer, when set, is called after every request.
	Observer RequestObserver
}

// Client is a forum.Client for one NodeBB forum. It is safe for concurrent use
// and holds no session: build one per forum and keep it for its connection pool.
type Client struct {
	base     string
	token    string
	uid      int64
	http     *http.Client
	observer RequestObserver
	// proofKey keys Proof; derived from the token, never sent.
	proofKey []byte
}

// New validates cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("nodebb: the forum URL must be an absolute http(s) URL")
	}
	if cfg.Token == "" {
		return nil, errors.New("nodebb: an API token is required")
	}
	if cfg.UID < 0 {
		return nil, errors.New("nodebb: the uid must be positive")
	}
	c := &Client{
		base:     strings.TrimRight(cfg.URL, "/"),
		token:    cfg.Token,
		uid:      cfg.UID,
		http:     cfg.HTTPClient,
		observer: cfg.Observer,
	}
	if c.uid == 0 {
		c.uid = 1
	}
	if c.http == nil {
		c.http = defaultHTTPClient()
	} else {
		hc := *c.http
		c.http = &hc
	}
	c.http.CheckRedirect = noRedirects
	c.proofKey = proofKey(cfg.Token)
	return c, nil
}

// noRedirects makes the http.Client hand back a 3xx answer instead of following
// it, which the client turns into an error: a forum (a deployed one is run by a
// tenant) must not send the operator, or its token, to another address.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// proofKey derives the key of Proof from the API token, so that only whoever
// holds the token (the operator, and the forum's administrators who made it)
// can compute a proof, and rotating the token changes the key.
func proofKey(token string) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("collab-operator forum proof key v1"))
	return m.Sum(nil)
}

// proofLen is the length of a proof in hex digits: 128 bits.
const proofLen = 32

// Proof implements forum.Client: the HMAC-SHA256 of subject under a key derived
// from the token, as 32 hex digits.
func (c *Client) Proof(subject string) string {
	m := hmac.New(sha256.New, c.proofKey)
	m.Write([]byte(subject))
	return hex.EncodeToString(m.Sum(nil))[:proofLen]
}

// defaultHTTPClient keeps connections to the forum alive between the many small
// requests of a pass (NodeBB takes one request per privilege change).
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// userJSON is the part of a NodeBB user object the client reads.
type userJSON struct {
	UID      flexInt `json:"uid"`
	Username string  `json:"username"`
	IsAdmin  bool    `json:"isAdmin"`
}

// Ping reads the account the token acts as (GET /api/self), which needs a valid
// token: NodeBB serves an unknown token as a guest, and /api/self answers a
// guest with 401.
func (c *Client) Ping(ctx context.Context) (forum.Self, error) {
	var u userJSON
	if err := c.do(ctx, call{method: http.MethodGet, op: "self", path: "/api/self"}, &u); err != nil {
		return forum.Self{}, err
	}
	if u.UID <= 0 {
		return forum.Self{}, &Error{Op: "self", Status: http.StatusOK, kind: forum.ErrUnauthorized,
			cause: errors.New("the forum answered as for a guest")}
	}
	return forum.Self{UID: int64(u.UID), Username: u.Username, Admin: u.IsAdmin}, nil
}

// Version reads the software version from NodeInfo, which needs no token.
func (c *Client) Version(ctx context.Context) (string, error) {
	var out struct {
		Software struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"software"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, op: "nodeinfo", path: "/nodeinfo/2.0", noAuth: true}, &out); err != nil {
		return "", err
	}
	if !versionPattern.MatchString(out.Software.Version) {
		return "", &Error{Op: "nodeinfo", Status: http.StatusOK, cause: errors.New("the forum reports no version")}
	}
	return out.Software.Version, nil
}

// versionPattern is what a version may look like to be reported in a status.
var versionPattern = regexp.MustCompile(`^[0-9][0-9A-Za-z.+_-]{0,63}$`)

// noAccount names the user who has no forum account; it wraps forum.ErrNoAccount.
func noAccount(username string) error {
	return fmt.Errorf("%w named %s", forum.ErrNoAccount, strconv.Quote(username))
}

// LookupEmail finds an account by e-mail address with GET
// /api/user/email/{email}, which NodeBB answers for administrators (and for
// accounts that show their address). It answers only for an address the forum
// has confirmed as the account's own: the user object's "email:confirmed" is 1
// and its "email" is the address asked for. NodeBB v4 indexes an address only
// once confirmed (user/email.js confirmByUid), but a forum upgraded from
// before 3.0 keeps the unconfirmed addresses those releases indexed at
// registration, and SSO plugins may write one; matching those would let
// anyone who types a colleague's address receive the colleague's groups.
func (c *Client) LookupEmail(ctx context.Context, email string) (string, error) {
	var u struct {
		userJSON
		Email     string  `json:"email"`
		Confirmed flexInt `json:"email:confirmed"`
	}
	err := c.do(ctx, call{method: http.MethodGet, op: "getUserByEmail",
		path: "/api/user/email/" + url.PathEscape(email)}, &u)
	if errors.Is(err, forum.ErrNotFound) || (err == nil && (u.UID <= 0 || u.Username == "")) {
		return "", &Error{Op: "getUserByEmail", Status: http.StatusNotFound, kind: forum.ErrNotFound,
			cause: errors.New("no forum account has that e-mail address")}
	}
	if err != nil {
		return "", err
	}
	if u.Confirmed != 1 || !strings.EqualFold(u.Email, email) {
		return "", &Error{Op: "getUserByEmail", Status: http.StatusNotFound, kind: forum.ErrNotFound,
			cause: errors.New("no forum account has confirmed that e-mail address")}
	}
	return u.Username, nil
}

// LookupUser resolves a username with GET /api/user/username/{username}.
func (c *Client) LookupUser(ctx context.Context, username string) (int64, error) {
	var u userJSON
	err := c.do(ctx, call{method: http.MethodGet, op: "getUser",
		path: "/api/user/username/" + url.PathEscape(username)}, &u)
	if errors.Is(err, forum.ErrNotFound) {
		return 0, &Error{Op: "getUser", Status: http.StatusNotFound, kind: forum.ErrNotFound, cause: noAccount(username)}
	}
	if err != nil {
		return 0, err
	}
	if u.UID <= 0 {
		return 0, &Error{Op: "getUser", Status: http.StatusOK, kind: forum.ErrNotFound, cause: noAccount(username)}
	}
	return int64(u.UID), nil
}
