package fake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/opencommons/collab-operator/internal/forum/nodebb"
)

func ping(_ *state, w http.ResponseWriter, q *request) {
	ok(w, q.r, map[string]any{"pong": true})
}

func nodeinfo(_ *state, w http.ResponseWriter, _ *request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"version":           "2.0",
		"software":          map[string]string{"name": "NodeBB", "version": Version},
		"protocols":         []string{"activitypub"},
		"openRegistrations": false,
	})
}

func userJSON(u *user) map[string]any {
	return map[string]any{
		"uid": u.uid, "username": u.username, "userslug": u.slug, "displayname": u.username,
		"picture": nil, "status": "offline", "icon:text": strings.ToUpper(u.username[:1]),
	}
}

// self is GET /api/self (controllers/user.js getCurrentUser).
func self(st *state, w http.ResponseWriter, q *request) {
	u := st.users[q.uid]
	if !q.loggedIn() || u == nil {
		writeJSON(w, http.StatusUnauthorized, "not-authorized")
		return
	}
	out := userJSON(u)
	out["isAdmin"] = st.isAdmin(q.uid)
	out["isSelf"] = true
	writeJSON(w, http.StatusOK, out)
}

// userByUsername is GET /api/user/username/{username}: the user object without
// an envelope, or NodeBB's plain 404. NodeBB's installer gives guests the
// view:users privilege this route checks, so no login is needed.
func userByUsername(st *state, w http.ResponseWriter, q *request) {
	uid, found := st.uidByName[q.param("username")]
	if !found {
		notFoundText(w)
		return
	}
	writeJSON(w, http.StatusOK, userJSON(st.users[uid]))
}

// userByEmail is GET /api/user/email/{email} (controllers/user.js
// getUserDataByField): the account the email:uid index maps the address to,
// compared in lower case, found only for administrators and global moderators
// (the fake keeps no "show e-mail" setting), else NodeBB's plain 404. As for
// them, the user object carries "email" and "email:confirmed" (user/data.js).
func userByEmail(st *state, w http.ResponseWriter, q *request) {
	email := strings.ToLower(q.param("email"))
	if !st.isAdmin(q.uid) && !st.isMember("Global Moderators", q.uid) {
		notFoundText(w)
		return
	}
	for _, u := range st.users {
		if email != "" && strings.ToLower(u.email) == email {
			out := userJSON(u)
			out["email"], out["email:confirmed"] = u.email, 0
			if u.emailConfirmed {
				out["email:confirmed"] = 1
			}
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	notFoundText(w)
}

// createUser is POST /api/v3/users (api/users.js create): administrators only;
// a taken username is renamed, as User.create does. A password given logs the
// account in (POST /api/v3/utilities/login).
func (s *Server) createUser(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) || !requireFields(w, q, "username") || !requireAdmin(st, w, q) {
		return
	}
	v, _ := q.field("username")
	name := strings.TrimSpace(str(v))
	if name == "" || nodebb.Slugify(name) == "" {
		apiError(w, q.r, http.StatusBadRequest, msgInvalidUsername, nil)
		return
	}
	uid := st.createUser(st.uniqueUsername(name))
	if pw, _ := q.field("password"); str(pw) != "" {
		if s.passwords == nil {
			s.passwords = map[int64][]string{}
		}
		s.passwords[uid] = append(s.passwords[uid], str(pw))
	}
	ok(w, q.r, userJSON(st.users[uid]))
}

// deleteUser is DELETE /api/v3/users/{uid}.
func deleteUser(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) {
		return
	}
	uid, err := strconv.ParseInt(q.param("uid"), 10, 64)
	if err != nil || st.users[uid] == nil {
		apiError(w, q.r, http.StatusNotFound, msgNoUser, nil)
		return
	}
	if uid != q.uid && !requireAdmin(st, w, q) {
		return
	}
	st.deleteUser(uid)
	ok(w, q.r, nil)
}

// userOr404 is middleware.assert.user on the uid in the path.
func userOr404(st *state, w http.ResponseWriter, q *request) *user {
	uid, _ := strconv.ParseInt(q.param("uid"), 10, 64)
	u := st.users[uid]
	if u == nil {
		apiError(w, q.r, http.StatusNotFound, msgNoUser, nil)
	}
	return u
}

// updateUser is PUT /api/v3/users/{uid} (api/users.js update), of which the
// fake keeps only the e-mail address: the user themself, or an administrator,
// may ask for a new one, which NodeBB does not store but sends a confirmation
// link for (user/profile.js updateEmail): it stays pending until confirmed.
// Changing someone else's address needs a recent login again, which a token
// has not: 401.
func (s *Server) updateUser(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) {
		return
	}
	u := userOr404(st, w, q)
	if u == nil {
		return
	}
	if u.uid != q.uid && !st.isAdmin(q.uid) {
		apiError(w, q.r, http.StatusForbidden, msgNoPrivileges, nil)
		return
	}
	if !s.ownPasswordGiven(u, q) {
		apiError(w, q.r, http.StatusBadRequest, msgInvalidPassword, nil)
		return
	}
	if v, has := q.body["email"]; has {
		email := strings.TrimSpace(str(v))
		if email != "" && u.uid != q.uid {
			apiError(w, q.r, http.StatusUnauthorized, msgAPI401, nil)
			return
		}
		if email != "" && email != u.email {
			u.pendingEmail = strings.ToLower(email)
		}
	}
	ok(w, q.r, userJSON(u))
}

// ownPasswordGiven is NodeBB's isPrivilegedOrSelfAndPasswordMatch: an account
// with a password changes its own address or username only by giving that
// password.
func (s *Server) ownPasswordGiven(u *user, q *request) bool {
	_, email := q.body["email"]
	_, username := q.body["username"]
	if !email && !username || u.uid != q.uid || len(s.passwords[u.uid]) == 0 {
		return true
	}
	pw, _ := q.field("password")
	return str(pw) != "" && slices.Contains(s.passwords[u.uid], str(pw))
}

// confirmEmail is POST /api/v3/users/{uid}/emails/{email}/confirm (api/users.js
// confirmEmail): an administrator confirms the address the user has pending
// (user/email.js confirmByCode, which takes it from any other account), or
// the unconfirmed address an old account holds; otherwise NodeBB's 404.
func confirmEmail(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) {
		return
	}
	u := userOr404(st, w, q)
	if u == nil {
		return
	}
	if !st.isAdmin(q.uid) {
		apiError(w, q.r, http.StatusForbidden, msgNoPrivileges, nil)
		return
	}
	email := q.param("email")
	switch {
	case u.pendingEmail != "" && u.pendingEmail == email:
		for _, o := range st.users {
			if o != u && strings.EqualFold(o.email, email) {
				o.email, o.emailConfirmed = "", false
			}
		}
		u.email, u.emailConfirmed, u.pendingEmail = email, true, ""
	case u.email != "" && u.email == email:
		u.emailConfirmed = true
	default:
		apiError(w, q.r, http.StatusNotFound, "", nil)
		return
	}
	ok(w, q.r, nil)
}
