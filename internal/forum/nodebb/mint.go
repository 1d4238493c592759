package nodebb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/opencommons/collab-operator/internal/forum"
)

// MintToken logs in with an administrator's login (as NodeBB's setup made it from
// NODEBB_ADMIN_USERNAME and NODEBB_ADMIN_PASSWORD) and creates a master API token
// (uid 0) to act for that administrator (Config.UID),
// as a person would in the admin panel (Settings > API Access), over the same
// HTTP routes (NodeBB v4, measured on 4.15.1):
//
//  1. GET /api/config: a session cookie and its csrf_token;
//  2. POST /api/v3/utilities/login with the username and password;
//  3. GET /api/config again: the logged-in session's csrf_token;
//  4. POST /api/v3/admin/tokens {"uid": 0, "password": …} with x-csrf-token:
//     creating a master token asks for the password again; the answer's
//     response.secret is the token.
//
// The session lives only for the call. Errors are *Error, built as the client's
// (never quoting the password, the answer or a cookie): a forum still starting
// gives ErrUnavailable, a wrong password ErrForbidden. The login's HTTPClient,
// when set, is copied and its cookie jar and CheckRedirect replaced; observer,
// when set, is called after every request.
func MintToken(ctx context.Context, l forum.Login, observer RequestObserver) (forum.Token, error) {
	u, err := url.Parse(l.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return forum.Token{}, errors.New("nodebb: the forum URL must be an absolute http(s) URL")
	}
	if l.Username == "" || l.Password == "" {
		return forum.Token{}, errors.New("nodebb: a username and password are required to mint a token")
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return forum.Token{}, err
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if l.HTTPClient != nil {
		c := *l.HTTPClient
		hc = &c
	}
	hc.Jar, hc.CheckRedirect = jar, noRedirects
	m := &minter{base: strings.TrimRight(l.URL, "/"), http: hc, observer: observer}

	csrf, err := m.csrfToken(ctx)
	if err != nil {
		return forum.Token{}, err
	}
	var self struct {
		UID flexInt `json:"uid"`
	}
	login := map[string]string{"username": l.Username, "password": l.Password}
	if err := m.post(ctx, "login", "/api/v3/utilities/login", csrf, login, &self); err != nil {
		return forum.Token{}, err
	}
	if self.UID <= 0 {
		return forum.Token{}, &Error{Op: "login", Status: http.StatusOK, cause: errUndecodable}
	}
	// The login may start a new session; ask for its token.
	if csrf, err = m.csrfToken(ctx); err != nil {
		return forum.Token{}, err
	}
	var created struct {
		Secret string `json:"secret"`
	}
	body := map[string]any{"uid": 0, "password": l.Password, "description": l.Description}
	if err := m.post(ctx, "createToken", "/api/v3/admin/tokens", csrf, body, &created); err != nil {
		return forum.Token{}, err
	}
	if created.Secret == "" {
		return forum.Token{}, &Error{Op: "createToken", Status: http.StatusOK, cause: errUndecodable}
	}
	return forum.Token{Secret: created.Secret, UID: int64(self.UID)}, nil
}

// minter makes the requests of MintToken, with a session cookie.
type minter struct {
	base     string
	http     *http.Client
	observer RequestObserver
}

func (m *minter) csrfToken(ctx context.Context) (string, error) {
	var config struct {
		CSRF string `json:"csrf_token"`
	}
	if err := m.send(ctx, http.MethodGet, "getConfig", "/api/config", "", nil, &config, false); err != nil {
		return "", err
	}
	if config.CSRF == "" {
		return "", &Error{Op: "getConfig", Status: http.StatusOK, cause: errUndecodable}
	}
	return config.CSRF, nil
}

func (m *minter) post(ctx context.Context, op, path, csrf string, body, out any) error {
	return m.send(ctx, http.MethodPost, op, path, csrf, body, out, true)
}

// send makes one request; out receives the answer, from inside NodeBB's envelope
// when enveloped.
func (m *minter) send(ctx context.Context, method, op, path, csrf string, body, out any, enveloped bool) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+path, rd)
	if err != nil {
		return &Error{Op: op, cause: errors.New("cannot build the request")}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		req.Header.Set("x-csrf-token", csrf)
	}
	start := time.Now()
	resp, err := m.http.Do(req)
	if err != nil {
		m.observe(method, op, 0, start)
		return transportError(ctx, op, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	m.observe(method, op, resp.StatusCode, start)
	if err != nil {
		return transportError(ctx, op, err)
	}
	if resp.StatusCode/100 != 2 {
		return responseError(op, resp.StatusCode, raw)
	}
	if enveloped {
		var env envelopeJSON
		if json.Unmarshal(raw, &env) != nil {
			return &Error{Op: op, Status: resp.StatusCode, cause: errUndecodable}
		}
		raw = env.Response
	}
	if json.Unmarshal(raw, out) != nil {
		return &Error{Op: op, Status: resp.StatusCode, cause: errUndecodable}
	}
	return nil
}

func (m *minter) observe(method, op string, status int, start time.Time) {
	if m.observer != nil {
		m.observer(method, op, status, time.Since(start))
	}
}
