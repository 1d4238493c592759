package fake

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Sessions, logins and API tokens: what an administrator does in a browser to
// create a token (Settings > API Access), over the routes nodebb.MintToken uses.
// As in NodeBB, a request without an Authorization header is served by its
// session cookie, and /api/v3 writes without one are checked for CSRF
// (src/middleware/csrf.js, csrf-sync: the token of the session, in x-csrf-token);
// a failed check is a bare 403 (src/controllers/errors.js, EBADCSRFTOKEN).

// sessionCookie is NodeBB's default session cookie name (express.sid).
const sessionCookie = "express.sid"

type session struct {
	csrf string
	uid  int64
	// forceLogin is set when a route behind NodeBB's re-authentication gate
	// refused the session; the next login then records reAuthAt
	// (controllers/authentication.js, onSuccessfulLogin).
	forceLogin bool
	reAuthAt   time.Time
}

// reAuthWindow is requireAPIReAuth's default window (src/middleware/index.js).
const reAuthWindow = 2 * time.Minute

// reAuthenticated is middleware.requireAPIReAuth: a request passes only when
// it is served by a session that logged in again, after a refusal, within
// the last two minutes. A request by token never does (it has no session). A
// refused session is marked so that its next login counts as a re-login. It
// writes NodeBB's 401 when the request does not pass.
func (s *Server) reAuthenticated(w http.ResponseWriter, q *request) bool {
	if !requireLogin(w, q) {
		return false
	}
	var sess *session
	if q.r.Header.Get("Authorization") == "" {
		sess = s.session(q.r)
	}
	if sess != nil && !sess.reAuthAt.IsZero() && time.Since(sess.reAuthAt) <= reAuthWindow {
		return true
	}
	if sess != nil {
		sess.forceLogin = true
	}
	apiError(w, q.r, http.StatusUnauthorized, msgAPI401, nil)
	return false
}

// SetupAdmin does what NodeBB's setup does with NODEBB_ADMIN_USERNAME and
// NODEBB_ADMIN_PASSWORD: the account exists, is an administrator and logs in
// with that password. It returns the account's uid. One stand-in serves every
// forum of make dev and of the controllers' suite, each with its own generated
// password, so setting up a username again adds a password to the same
// account; any of them logs in.
func (s *Server) SetupAdmin(username, password string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	uid, ok := s.state.uidByName[username]
	if !ok {
		uid = s.state.createUser(username)
	}
	s.state.join("administrators", uid)
	if s.passwords == nil {
		s.passwords = map[int64][]string{}
	}
	if !slices.Contains(s.passwords[uid], password) {
		s.passwords[uid] = append(s.passwords[uid], password)
	}
	return uid
}

// MintedTokens counts the API tokens created through POST /api/v3/admin/tokens.
func (s *Server) MintedTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.minted
}

// RevokeTokens deletes every API token but the one the server was made with, as
// an administrator could in the admin panel.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = nil
}

// tokenUID resolves an API token: the server's own master token, or one minted.
func (s *Server) tokenUID(token string) (uid int64, ok bool) {
	if token == s.token {
		return 0, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	uid, ok = s.tokens[token]
	return uid, ok
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// session returns the request's session, or nil.
func (s *Server) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	return s.sessions[c.Value]
}

// newSession starts a session and sets its cookie.
func (s *Server) newSession(w http.ResponseWriter, sess *session) {
	if s.sessions == nil {
		s.sessions = map[string]*session{}
	}
	sid := randomHex(16)
	s.sessions[sid] = sess
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", HttpOnly: true})
}

// csrfOK is csrf-sync's check for a request served by its session.
func (s *Server) csrfOK(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	sess := s.session(r)
	return sess != nil && sess.csrf != "" && r.Header.Get("x-csrf-token") == sess.csrf
}

// apiConfig is GET /api/config: the fields MintToken reads, for the request's
// session, made when there is none.
func (s *Server) apiConfig(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.session(r)
	if sess == nil {
		sess = &session{csrf: randomHex(32)}
		s.newSession(w, sess)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"relative_path": "", "upload_url": "/assets/uploads", "csrf_token": sess.csrf,
		"uid": sess.uid, "loggedIn": sess.uid > 0,
	})
}

// login is POST /api/v3/utilities/login (controllers/write/utilities.js, then
// controllers/authentication.js): a wrong username or password is a 403 with
// the message as text; a login starts a new session that keeps the old one's
// data (passport's keepSessionInfo).
func (s *Server) login(st *state, w http.ResponseWriter, q *request) {
	if !requireFields(w, q, "username", "password") {
		return
	}
	username, _ := q.field("username")
	password, _ := q.field("password")
	uid, found := st.uidByName[str(username)]
	if !found || !slices.Contains(s.passwords[uid], str(password)) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("[[error:invalid-login-credentials]]"))
		return
	}
	old := s.session(q.r)
	sess := &session{uid: uid}
	if old != nil {
		sess.csrf = old.csrf
		if old.forceLogin {
			sess.reAuthAt = time.Now()
		}
	}
	s.newSession(w, sess)
	ok(w, q.r, userJSON(st.users[uid]))
}

// createToken is POST /api/v3/admin/tokens (routes/write/admin.js,
// controllers/write/admin.js): administrators only; a master token (uid 0) needs
// the caller's password again (middleware.requirePasswordAuth). The fake asks
// the same of a user token, for which NodeBB asks a recent re-login instead.
func (s *Server) createToken(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) || !requireAdmin(st, w, q) {
		return
	}
	password, _ := q.field("password")
	if pw := str(password); pw == "" || !slices.Contains(s.passwords[q.uid], pw) {
		apiError(w, q.r, http.StatusBadRequest, "Invalid password", nil)
		return
	}
	uidField, _ := q.field("uid")
	uid, _ := toInt(uidField)
	description, _ := q.field("description")
	token := randomHex(18)
	if s.tokens == nil {
		s.tokens = map[string]int64{}
	}
	s.tokens[token] = uid
	s.minted++
	now := time.Now().UnixMilli()
	ok(w, q.r, map[string]any{
		"tokenId": randomHex(8), "tokenMasked": token[:4] + "…" + token[len(token)-4:],
		"uid": uid, "description": str(description), "timestamp": now, "lastSeen": nil,
		"lastSeenISO": nil, "timestampISO": strconv.FormatInt(now, 10), "secret": token,
	})
}

// deleteToken is DELETE /api/v3/admin/tokens/{token}: administrators only.
func (s *Server) deleteToken(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) || !requireAdmin(st, w, q) {
		return
	}
	delete(s.tokens, q.param("token"))
	ok(w, q.r, nil)
}
