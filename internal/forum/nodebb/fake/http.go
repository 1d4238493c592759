package fake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// NodeBB's English messages (public/language/en-GB/error.json).
const (
	msgAPI401          = "A valid login session was not found. Please log in and try again."
	msgAPI404          = "Invalid API call"
	msgMasterNoUID     = "A master token was received without a corresponding `_uid` in the request body"
	msgNoPrivileges    = "You do not have enough privileges for this action."
	msgInvalidUID      = "Invalid User ID"
	msgInvalidData     = "Invalid Data"
	msgNoGroup         = "Group does not exist"
	msgNoUser          = "User does not exist"
	msgNoUserOrGroup   = "[[error:no-user-or-group]]" // not in NodeBB's translations
	msgGroupExists     = "Group already exists"
	msgGroupNameShort  = "Group name too short"
	msgGroupNameLong   = "Group name too long"
	msgInvalidGroup    = "Invalid group name"
	msgNotAllowed      = "You are not allowed to do this"
	msgNotMember       = "Not a member of this group"
	msgInvalidPassword = "Invalid Password"
	msgInvalidUsername = "This username contains invalid characters"
	msgSelfParent      = "Can't set self as parent category"
	msgChildParent     = "Can't set child as parent category"
	msgMissingParams   = "Required parameters were missing from this API call: "
)

// statusCodes are the codes of NodeBB's error envelope (controllers/helpers.js).
var statusCodes = map[int]string{
	400: "bad-request", 401: "not-authorised", 403: "forbidden", 404: "not-found",
	426: "upgrade-required", 429: "too-many-requests", 500: "internal-server-error",
	501: "not-implemented", 503: "service-unavailable",
}

// request is one request as the handlers see it: the acting user (0 for a
// guest) and the decoded JSON body.
type request struct {
	r    *http.Request
	uid  int64
	body map[string]any
}

// loggedIn mirrors req.loggedIn.
func (q *request) loggedIn() bool { return q.uid > 0 }

func (q *request) param(name string) string { return q.r.PathValue(name) }

// field reads a body field, falling back to the query as checkRequired does.
func (q *request) field(name string) (any, bool) {
	if v, ok := q.body[name]; ok {
		return v, true
	}
	if q.r.URL.Query().Has(name) {
		return q.r.URL.Query().Get(name), true
	}
	return nil, false
}

type handler func(st *state, w http.ResponseWriter, q *request)

// handle wraps a handler: it decodes the body, authenticates like NodeBB's
// authenticateRequest middleware, and runs the handler under the state lock.
func (s *Server) handle(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := &request{r: r, body: map[string]any{}}
		if r.Body != nil {
			b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err == nil && len(strings.TrimSpace(string(b))) > 0 {
				if err := json.Unmarshal(b, &q.body); err != nil {
					apiError(w, r, http.StatusBadRequest, "invalid JSON body", nil)
					return
				}
			}
		}
		uid, ok := s.authenticate(q)
		if !ok {
			// A master token without _uid: an error thrown by the middleware,
			// which NodeBB's error handler turns into a 400 under /api/v3.
			if strings.HasPrefix(r.URL.Path, "/api/v3") {
				apiError(w, r, http.StatusBadRequest, msgMasterNoUID, nil)
			} else {
				writeJSON(w, http.StatusInternalServerError, map[string]any{"path": r.URL.Path, "error": msgMasterNoUID})
			}
			return
		}
		q.uid = uid
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.Header.Get("Authorization") == "" && strings.HasPrefix(r.URL.Path, "/api/v3/") && !s.csrfOK(r) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, "Forbidden")
			return
		}
		h(s.state, w, q)
	}
}

// authenticate resolves the bearer token. An unknown token is not an error in
// NodeBB: the request goes on as a guest, and routes that need a login answer
// 401. A master token needs _uid; ok is false when it is missing. A request
// without an Authorization header is served by its session, if any.
func (s *Server) authenticate(q *request) (uid int64, ok bool) {
	header := q.r.Header.Get("Authorization")
	if header == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if sess := s.session(q.r); sess != nil {
			return sess.uid, true
		}
		return 0, true
	}
	scheme, token, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return 0, true
	}
	tokenUID, known := s.tokenUID(token)
	switch {
	case !known:
		return 0, true
	case tokenUID != 0:
		return tokenUID, true
	}
	v, has := q.body["_uid"]
	if !has {
		if !q.r.URL.Query().Has("_uid") {
			return 0, false
		}
		v = q.r.URL.Query().Get("_uid")
	}
	n, _ := toInt(v)
	return max(n, 0), true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ok answers like helpers.formatApiResponse(200, res, payload).
func ok(w http.ResponseWriter, r *http.Request, payload any) {
	if payload == nil {
		payload = map[string]any{}
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status":   map[string]string{"code": "ok", "message": "OK"},
		"response": payload,
	})
}

// apiError answers like formatApiResponse with an error.
func apiError(w http.ResponseWriter, r *http.Request, status int, message string, response map[string]any) {
	if response == nil {
		response = map[string]any{}
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	code, known := statusCodes[status]
	if !known {
		code = "internal-server-error"
	}
	writeJSON(w, status, map[string]any{
		"status":   map[string]string{"code": code, "message": message},
		"response": response,
	})
}

// notLoggedIn is helpers.notAllowed for a guest on an API route.
func notLoggedIn(w http.ResponseWriter, r *http.Request) {
	apiError(w, r, http.StatusUnauthorized, msgAPI401, nil)
}

// notFoundText is the 404 NodeBB sends for an unknown non-v3 route to a client
// that does not accept HTML.
func notFoundText(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, "Not found")
}

// requireLogin is middleware.ensureLoggedIn.
func requireLogin(w http.ResponseWriter, q *request) bool {
	if !q.loggedIn() {
		notLoggedIn(w, q.r)
		return false
	}
	return true
}

// requireAdmin stands for the admin privilege checks of the API layer, which
// throw no-privileges (403).
func requireAdmin(st *state, w http.ResponseWriter, q *request) bool {
	if !st.isAdmin(q.uid) {
		apiError(w, q.r, http.StatusForbidden, msgNoPrivileges, nil)
		return false
	}
	return true
}

// requireFields is middleware.checkRequired.
func requireFields(w http.ResponseWriter, q *request, names ...string) bool {
	var missing []string
	for _, n := range names {
		if _, ok := q.field(n); !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return true
	}
	apiError(w, q.r, http.StatusBadRequest, msgMissingParams+strings.Join(missing, " "),
		map[string]any{"params": missing})
	return false
}

// toInt reads a number sent as a JSON number, a string or a boolean, as
// parseInt would (booleans count as 0/1, which parseInt would not do).
func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// flag is the 0/1 of a boolean-ish field.
func flag(v any) int {
	if n, ok := toInt(v); ok && n == 1 {
		return 1
	}
	if s, ok := v.(string); ok && s == "true" {
		return 1
	}
	return 0
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	h := s.handle
	m.HandleFunc("GET /api/v3/ping", h(ping))
	m.HandleFunc("GET /api/config", s.apiConfig)
	m.HandleFunc("POST /api/v3/utilities/login", h(s.login))
	m.HandleFunc("POST /api/v3/admin/tokens", h(s.createToken))
	m.HandleFunc("DELETE /api/v3/admin/tokens/{token}", h(s.deleteToken))
	m.HandleFunc("GET /api/self", h(self))
	m.HandleFunc("GET /nodeinfo/2.0", h(nodeinfo))
	m.HandleFunc("GET /api/user/username/{username}", h(userByUsername))
	m.HandleFunc("GET /api/user/email/{email}", h(userByEmail))
	m.HandleFunc("POST /api/v3/users", h(s.createUser))
	m.HandleFunc("DELETE /api/v3/users/{uid}", h(deleteUser))
	m.HandleFunc("PUT /api/v3/users/{uid}", h(s.updateUser))
	m.HandleFunc("POST /api/v3/users/{uid}/emails/{email}/confirm", h(confirmEmail))

	m.HandleFunc("GET /api/v3/categories", h(listCategories))
	m.HandleFunc("POST /api/v3/categories", h(createCategory))
	m.HandleFunc("GET /api/v3/categories/{cid}", h(getCategory))
	m.HandleFunc("PUT /api/v3/categories/{cid}", h(updateCategory))
	m.HandleFunc("DELETE /api/v3/categories/{cid}", h(deleteCategory))
	m.HandleFunc("GET /api/v3/categories/{cid}/privileges", h(getPrivileges))
	m.HandleFunc("PUT /api/v3/categories/{cid}/privileges/{privilege}", h(setPrivilege))
	m.HandleFunc("DELETE /api/v3/categories/{cid}/privileges/{privilege}", h(setPrivilege))
	m.HandleFunc("DELETE /api/v3/categories/{cid}/privileges/{privilege}/{member}", h(setPrivilege))

	m.HandleFunc("POST /api/v3/topics", h(createTopic))
	m.HandleFunc("POST /api/v3/topics/{tid}", h(replyTopic))
	m.HandleFunc("GET /api/recent/posts/{term}", h(recentPosts))
	m.HandleFunc("GET /api/recent/posts", h(recentPosts))

	m.HandleFunc("POST /api/v3/groups", h(createGroup))
	m.HandleFunc("GET /api/groups/{slug}", h(groupDetails))
	m.HandleFunc("PUT /api/v3/groups/{slug}", h(updateGroup))
	m.HandleFunc("DELETE /api/v3/groups/{slug}", h(deleteGroup))
	m.HandleFunc("GET /api/v3/groups/{slug}/members", h(listMembers))
	m.HandleFunc("PUT /api/v3/groups/{slug}/membership/{uid}", h(joinGroup))
	m.HandleFunc("DELETE /api/v3/groups/{slug}/membership/{uid}", h(leaveGroup))
	m.HandleFunc("PUT /api/v3/groups/{slug}/ownership/{uid}", h(s.grantOwnership))

	m.HandleFunc("/api/v3/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, r, http.StatusNotFound, msgAPI404, nil)
	})
	m.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { notFoundText(w) })
	return m
}
