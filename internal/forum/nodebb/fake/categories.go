package fake

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/opencommons/collab-operator/internal/forum/nodebb"
)

func categoryJSON(c *category) map[string]any {
	return map[string]any{
		"cid": c.cid, "name": c.name, "handle": c.handle,
		"description": c.description, "descriptionParsed": "<p>" + c.description + "</p>\n",
		"slug":      fmt.Sprintf("%d/%s", c.cid, nodebb.Slugify(c.name)),
		"parentCid": c.parentCid, "disabled": c.disabled, "order": c.order,
		"icon": "fa-comments", "bgColor": "#86C1B9", "color": "#333333", "link": "",
		"class": "col-md-3 col-6", "imageClass": "cover", "isSection": 0,
		"numRecentReplies": 1, "subCategoriesPerPage": 10,
		"topic_count": 0, "post_count": 0, "totalTopicCount": 0, "totalPostCount": 0,
		"minTags": 0, "maxTags": 5, "postQueue": 0, "tagWhitelist": []string{},
	}
}

// worldCategory is the "uncategorized" pseudo-category (cid -1) that NodeBB
// lists first for administrators.
var worldCategory = map[string]any{
	"cid": -1, "name": "[[category:uncategorized]]", "description": "[[category:uncategorized.description]]",
	"parentCid": 0, "disabled": 0, "handle": "world", "slug": "../world", "link": "", "class": "",
	"icon": "fa-globe", "bgColor": "#eee", "color": "#333", "imageClass": "cover",
}

func parseCid(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// listCategories is GET /api/v3/categories: the categories the caller may find,
// without disabled ones, even for administrators (privileges.categories.filterCids).
func listCategories(st *state, w http.ResponseWriter, q *request) {
	out := []any{}
	if q.loggedIn() && st.isAdmin(q.uid) {
		out = append(out, worldCategory)
	}
	for _, c := range st.sortedCategories() {
		if c.disabled == 0 && st.can(q.uid, c.cid, "find") {
			out = append(out, categoryJSON(c))
		}
	}
	ok(w, q.r, map[string]any{"categories": out})
}

// getCategory is GET /api/v3/categories/{cid}. NodeBB answers 200 with an empty
// response both for a category that does not exist and for one the caller may
// not read.
func getCategory(st *state, w http.ResponseWriter, q *request) {
	cid, _ := parseCid(q.param("cid"))
	c := st.cats[cid]
	if c == nil || !st.can(q.uid, cid, "read") {
		ok(w, q.r, nil)
		return
	}
	ok(w, q.r, categoryJSON(c))
}

// createCategory is POST /api/v3/categories (categories/create.js): the new
// category gets NodeBB's default privileges and goes first among its siblings
// unless an order is given.
func createCategory(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) || !requireFields(w, q, "name") || !requireAdmin(st, w, q) {
		return
	}
	v, _ := q.field("name")
	name := str(v)
	parent, _ := toInt(q.body["parentCid"])
	order, _ := toInt(q.body["order"])
	c := st.createCategory(name, str(q.body["description"]), parent, flag(q.body["disabled"]), order)
	if name == "" {
		c.name = fmt.Sprintf("Category %d", c.cid)
	}
	ok(w, q.r, categoryJSON(c))
}

// updateCategory is PUT /api/v3/categories/{cid} (categories/update.js). An
// unknown cid is silently skipped: 200 with an empty response.
func updateCategory(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) || !requireAdmin(st, w, q) {
		return
	}
	cid, _ := parseCid(q.param("cid"))
	c := st.cats[cid]
	if c == nil {
		ok(w, q.r, nil)
		return
	}
	if v, has := q.body["parentCid"]; has {
		p, _ := toInt(v)
		if p == cid {
			apiError(w, q.r, http.StatusBadRequest, msgSelfParent, nil)
			return
		}
		if slices.Contains(st.descendants(cid), p) {
			apiError(w, q.r, http.StatusBadRequest, msgChildParent, nil)
			return
		}
		c.parentCid = p
	}
	if v, has := q.body["name"]; has {
		c.name = str(v)
	}
	if v, has := q.body["description"]; has {
		c.description = str(v)
	}
	if v, has := q.body["disabled"]; has {
		c.disabled = flag(v)
	}
	ok(w, q.r, categoryJSON(c))
}

func (st *state) descendants(cid int64) []int64 {
	var out []int64
	for _, c := range st.children(cid) {
		out = append(out, c.cid)
		out = append(out, st.descendants(c.cid)...)
	}
	return out
}

// deleteCategory is DELETE /api/v3/categories/{cid} (categories/delete.js
// purge): children move to the root, privileges go with the category.
func deleteCategory(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) || !requireAdmin(st, w, q) {
		return
	}
	cid, _ := parseCid(q.param("cid"))
	if st.cats[cid] != nil {
		for _, child := range st.children(cid) {
			child.parentCid = 0
		}
		delete(st.cats, cid)
		delete(st.privs, cid)
	}
	ok(w, q.r, nil)
}

// privilegeList is privileges.categories.list(cid).
func privilegeList(st *state, cid int64) map[string]any {
	var labels []any
	var userKeys, groupKeys []string
	types := map[string]string{}
	for _, p := range privilegeTypes {
		labels = append(labels, map[string]string{"label": "[[admin/manage/privileges:" + p.name + "]]", "type": p.typ})
		userKeys = append(userKeys, p.name)
		groupKeys = append(groupKeys, "groups:"+p.name)
		types["groups:"+p.name] = p.typ
	}
	var groups []any
	for _, name := range st.privilegeGroups(cid) {
		privs := map[string]bool{}
		for _, k := range groupKeys {
			privs[k] = st.hasPriv(cid, k, name)
		}
		g := st.groups[name]
		groups = append(groups, map[string]any{
			"name": name, "privileges": privs, "types": types,
			"isPrivate": g != nil && g.private == 1, "isSystem": g != nil && g.system == 1,
		})
	}
	return map[string]any{
		"labelData": labels, "users": []any{}, "groups": groups,
		"keys":                 map[string]any{"users": userKeys, "groups": groupKeys},
		"columnCountUserOther": 0, "columnCountGroupOther": 0,
	}
}

// getPrivileges is GET /api/v3/categories/{cid}/privileges. NodeBB does not
// check that the category exists.
func getPrivileges(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) || !requireAdmin(st, w, q) {
		return
	}
	cid, isNum := parseCid(q.param("cid"))
	if !isNum || cid <= 0 {
		apiError(w, q.r, http.StatusNotImplemented, "global and admin privileges are not implemented by the fake", nil)
		return
	}
	ok(w, q.r, privilegeList(st, cid))
}

// setPrivilege is PUT and DELETE /api/v3/categories/{cid}/privileges/{privilege}
// with the member in the body (or, on recent versions, the path). Privileges
// NodeBB does not know are silently ignored, and it does not check that the
// category exists either.
func setPrivilege(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) {
		return
	}
	if q.r.Method == http.MethodPut && !requireFields(w, q, "member") {
		return
	}
	if !requireAdmin(st, w, q) {
		return
	}
	cid, isNum := parseCid(q.param("cid"))
	member := privilegeMember(q)
	if !isNum || cid <= 0 {
		setGlobalPrivilege(st, w, q, isNum && cid == 0, member)
		return
	}
	uid, _ := strconv.ParseInt(member, 10, 64)
	if member == "" || (st.users[uid] == nil && !st.groupExists(member)) {
		apiError(w, q.r, http.StatusBadRequest, msgNoUserOrGroup, nil)
		return
	}
	priv := q.param("privilege")
	name := strings.TrimPrefix(priv, "groups:")
	known := slices.ContainsFunc(privilegeTypes, func(p struct{ name, typ string }) bool { return p.name == name })
	if known {
		if q.r.Method == http.MethodPut {
			st.give(cid, []string{priv}, member)
		} else {
			st.rescind(cid, []string{priv}, member)
		}
	}
	ok(w, q.r, privilegeList(st, cid))
}

// privilegeMember is the member a privilege route names: in the path on recent
// versions, else in the body.
func privilegeMember(q *request) string {
	if m := q.param("member"); m != "" {
		return m
	}
	return str(q.body["member"])
}

// setGlobalPrivilege sets a privilege of cid 0 (global), or of the pseudo-cids
// "admin" and "all". The fake keeps one: the user privilege group:create,
// given to or taken from a user by uid, as
// privileges.global.give(['group:create'], uid) does.
func setGlobalPrivilege(st *state, w http.ResponseWriter, q *request, global bool, member string) {
	if !global || q.param("privilege") != "group:create" {
		apiError(w, q.r, http.StatusNotImplemented, "global and admin privileges are not implemented by the fake", nil)
		return
	}
	uid, _ := strconv.ParseInt(member, 10, 64)
	if st.users[uid] == nil {
		apiError(w, q.r, http.StatusBadRequest, msgNoUserOrGroup, nil)
		return
	}
	if q.r.Method == http.MethodPut {
		st.groupCreators[uid] = true
	} else {
		delete(st.groupCreators, uid)
	}
	ok(w, q.r, nil)
}
