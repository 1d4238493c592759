package fake

import (
	"net/http"
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
// a taken username is renamed, as User.create does.
func createUser(st *state, w http.ResponseWriter, q *request) {
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
