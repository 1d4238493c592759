package fake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/opencommons/collab-operator/internal/forum/nodebb"
)

// maximumGroupNameLength is NodeBB's default (install/data/defaults.json).
const maximumGroupNameLength = 255

func groupJSON(g *group) map[string]any {
	return map[string]any{
		"name": g.name, "slug": g.slug, "createtime": g.createtime,
		"userTitle": g.name, "userTitleEnabled": 0, "description": g.description,
		"memberCount": len(g.members), "hidden": g.hidden, "system": g.system,
		"private": g.private, "disableJoinRequests": g.disableJoinRequests, "disableLeave": 0,
		"nameEncoded": g.name, "displayName": g.name, "icon": "",
		"labelColor": "#000000", "textColor": "#ffffff",
	}
}

// membersJSON lists users of a group as getOwnersAndMembers does: owners
// flagged isOwner.
func membersJSON(g *group, us []*user) []any {
	out := []any{}
	for _, u := range us {
		j := userJSON(u)
		if g.owners[u.uid] {
			j["isOwner"] = true
		}
		out = append(out, j)
	}
	return out
}

// groupBySlugOr404 is middleware.assert.group.
func groupBySlugOr404(st *state, w http.ResponseWriter, q *request) *group {
	g := st.groupBySlug(q.param("slug"))
	if g == nil {
		apiError(w, q.r, http.StatusNotFound, msgNoGroup, nil)
	}
	return g
}

// isOwner is the isOwner check of api/groups.js: group owners, administrators,
// and global moderators for non-system groups.
func (st *state) isOwner(uid int64, g *group) bool {
	return g.owners[uid] || st.isAdmin(uid) || (st.isMember("Global Moderators", uid) && g.system == 0)
}

// createGroup is POST /api/v3/groups (api/groups.js, groups/create.js). The
// caller becomes the group's owner and first member; groups are private unless
// "private" is given and not 1; flags are read with parseInt, so only 1 or "1"
// switch them on.
func createGroup(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) || !requireFields(w, q, "name") {
		return
	}
	name, isString := q.body["name"].(string)
	if !isString || strings.Contains(name, ":privileges:") {
		apiError(w, q.r, http.StatusBadRequest, msgInvalidGroup, nil)
		return
	}
	if !st.isAdmin(q.uid) && !st.groupCreators[q.uid] { // privileges.global.can('group:create')
		apiError(w, q.r, http.StatusForbidden, msgNoPrivileges, nil)
		return
	}
	switch {
	case name == "":
		apiError(w, q.r, http.StatusBadRequest, msgGroupNameShort, nil)
		return
	case len(name) > maximumGroupNameLength:
		apiError(w, q.r, http.StatusBadRequest, msgGroupNameLong, nil)
		return
	case name == "guests", strings.Contains(name, ":"), strings.Contains(name, "/"), nodebb.Slugify(name) == "":
		apiError(w, q.r, http.StatusBadRequest, msgInvalidGroup, nil)
		return
	case st.slugTaken(nodebb.Slugify(name)):
		apiError(w, q.r, http.StatusBadRequest, msgGroupExists, nil)
		return
	}
	private := 1
	if v, has := q.body["private"]; has && v != nil {
		private = parseIntFlag(v)
	}
	g := st.addGroup(name, str(q.body["description"]), private, 0)
	g.hidden = parseIntFlag(q.body["hidden"])
	g.disableJoinRequests = parseIntFlag(q.body["disableJoinRequests"])
	g.owners[q.uid] = true
	g.members = append(g.members, q.uid)
	ok(w, q.r, groupJSON(g))
}

// parseIntFlag is `parseInt(v, 10) === 1`: true and "true" do not count.
func parseIntFlag(v any) int {
	switch x := v.(type) {
	case float64:
		if int64(x) == 1 {
			return 1
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil && n == 1 {
			return 1
		}
	}
	return 0
}

// groupDetails is GET /api/groups/{slug}, the read API of the group page:
// hidden groups only for administrators, members truncated to the first 20.
func groupDetails(st *state, w http.ResponseWriter, q *request) {
	g := st.groupBySlug(strings.ToLower(q.param("slug")))
	if g == nil || (g.hidden == 1 && !st.isAdmin(q.uid) && !slices.Contains(g.members, q.uid)) {
		notFoundText(w)
		return
	}
	out := groupJSON(g)
	out["members"] = membersJSON(g, st.ownersAndMembers(g, 0, 19))
	out["membersNextStart"] = 20
	out["isMember"] = slices.Contains(g.members, q.uid)
	out["isOwner"] = st.isOwner(q.uid, g)
	writeJSON(w, http.StatusOK, map[string]any{
		"title": "Group: " + g.name, "group": out, "posts": []any{},
		"isAdmin": st.isAdmin(q.uid), "allowPrivateGroups": 1,
	})
}

// updateGroup is PUT /api/v3/groups/{slug} (groups/update.js). NodeBB rewrites
// description and icon on every update, empty when not sent.
func updateGroup(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) {
		return
	}
	g := groupBySlugOr404(st, w, q)
	if g == nil {
		return
	}
	if !st.isOwner(q.uid, g) {
		apiError(w, q.r, http.StatusForbidden, msgNoPrivileges, nil)
		return
	}
	if v, has := q.body["name"]; has && str(v) != g.name {
		apiError(w, q.r, http.StatusNotImplemented, "renaming groups is not implemented by the fake", nil)
		return
	}
	g.description = str(q.body["description"])
	for field, dst := range map[string]*int{"private": &g.private, "hidden": &g.hidden, "disableJoinRequests": &g.disableJoinRequests} {
		if v, has := q.body[field]; has {
			*dst = boolish(v)
		}
	}
	ok(w, q.r, groupJSON(g))
}

// boolish is the cast of Groups.update: booleans stay, "true" and 1 are true.
func boolish(v any) int {
	if b, isBool := v.(bool); isBool {
		if b {
			return 1
		}
		return 0
	}
	if s, isStr := v.(string); isStr && s == "true" {
		return 1
	}
	return parseIntFlag(v)
}

// deleteGroup is DELETE /api/v3/groups/{slug}.
func deleteGroup(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) {
		return
	}
	g := groupBySlugOr404(st, w, q)
	if g == nil {
		return
	}
	if !st.isOwner(q.uid, g) {
		apiError(w, q.r, http.StatusForbidden, msgNoPrivileges, nil)
		return
	}
	if g.system == 1 {
		apiError(w, q.r, http.StatusBadRequest, msgNotAllowed, nil)
		return
	}
	delete(st.groups, g.name)
	for _, byPriv := range st.privs {
		for _, members := range byPriv {
			delete(members, g.name)
		}
	}
	ok(w, q.r, nil)
}

// listMembers is GET /api/v3/groups/{slug}/members: pages of 20 from `after`.
func listMembers(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) {
		return
	}
	g := groupBySlugOr404(st, w, q)
	if g == nil {
		return
	}
	if g.hidden == 1 && !st.isAdmin(q.uid) && !slices.Contains(g.members, q.uid) {
		apiError(w, q.r, http.StatusForbidden, msgNoPrivileges, nil)
		return
	}
	after, _ := strconv.Atoi(q.r.URL.Query().Get("after"))
	ok(w, q.r, map[string]any{
		"users":      membersJSON(g, st.ownersAndMembers(g, after, after+19)),
		"nextStart":  after + 20,
		"matchCount": nil,
		"timing":     nil,
	})
}

// joinGroup is PUT /api/v3/groups/{slug}/membership/{uid} (api/groups.js join).
// NodeBB answers an unknown uid with invalid-uid, which it sends as a 401.
func joinGroup(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) {
		return
	}
	g := groupBySlugOr404(st, w, q)
	if g == nil {
		return
	}
	uid, _ := strconv.ParseInt(q.param("uid"), 10, 64)
	if uid <= 0 {
		apiError(w, q.r, http.StatusUnauthorized, msgInvalidUID, nil)
		return
	}
	callerAdmin := st.isAdmin(q.uid)
	if !callerAdmin && g.system == 1 {
		apiError(w, q.r, http.StatusBadRequest, msgNotAllowed, nil)
		return
	}
	if st.users[uid] == nil {
		apiError(w, q.r, http.StatusUnauthorized, msgInvalidUID, nil)
		return
	}
	self := uid == q.uid
	switch {
	case callerAdmin, self && g.private == 0:
		st.join(g.name, uid)
	case self && g.disableJoinRequests == 1:
		apiError(w, q.r, http.StatusBadRequest, "Joining this group is not allowed", nil)
		return
	case self:
		// A membership request, which the fake does not keep.
	default:
		apiError(w, q.r, http.StatusBadRequest, msgNotAllowed, nil)
		return
	}
	ok(w, q.r, nil)
}

// leaveGroup is DELETE /api/v3/groups/{slug}/membership/{uid} (api/groups.js
// leave): a user who is not a member is a 400.
func leaveGroup(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) {
		return
	}
	g := groupBySlugOr404(st, w, q)
	if g == nil {
		return
	}
	uid, _ := strconv.ParseInt(q.param("uid"), 10, 64)
	self := uid == q.uid
	if g.name == "administrators" && self {
		apiError(w, q.r, http.StatusBadRequest, "You can't remove yourself as Administrator", nil)
		return
	}
	if !slices.Contains(g.members, uid) {
		apiError(w, q.r, http.StatusBadRequest, msgNotMember, nil)
		return
	}
	if st.users[uid] == nil {
		apiError(w, q.r, http.StatusUnauthorized, msgInvalidUID, nil)
		return
	}
	if !self && !st.isOwner(q.uid, g) {
		apiError(w, q.r, http.StatusForbidden, msgNoPrivileges, nil)
		return
	}
	st.leave(g.name, uid)
	ok(w, q.r, nil)
}

// grantOwnership is PUT /api/v3/groups/{slug}/ownership/{uid} (api/groups.js
// grant): an owner (or administrator) makes a member an owner; an account
// that is not a member cannot be made one, so nobody but an administrator,
// who may add members, can make another account the owner of their group.
// The route is behind NodeBB's re-authentication gate (groupsReAuth in
// routes/write/groups.js): by token, or without a fresh re-login, it is a 401
// before any of that is checked.
func (s *Server) grantOwnership(st *state, w http.ResponseWriter, q *request) {
	if !s.reAuthenticated(w, q) {
		return
	}
	g := groupBySlugOr404(st, w, q)
	if g == nil {
		return
	}
	if !st.isOwner(q.uid, g) {
		apiError(w, q.r, http.StatusForbidden, msgNoPrivileges, nil)
		return
	}
	uid, _ := strconv.ParseInt(q.param("uid"), 10, 64)
	if !slices.Contains(g.members, uid) {
		apiError(w, q.r, http.StatusBadRequest, msgNotMember, nil)
		return
	}
	g.owners[uid] = true
	ok(w, q.r, nil)
}
