package fake

import (
	"cmp"
	"crypto/rand"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/opencommons/collab-operator/internal/forum/nodebb"
)

// Category privileges of NodeBB core (src/privileges/categories.js), in order,
// with their ACP type.
var privilegeTypes = []struct{ name, typ string }{
	{"find", "viewing"}, {"read", "viewing"}, {"topics:read", "viewing"},
	{"topics:create", "posting"}, {"topics:reply", "posting"}, {"topics:crosspost", "posting"},
	{"topics:schedule", "posting"}, {"topics:tag", "posting"}, {"posts:edit", "posting"},
	{"posts:history", "posting"}, {"posts:delete", "posting"}, {"posts:upvote", "posting"},
	{"posts:downvote", "posting"}, {"topics:delete", "posting"},
	{"posts:view_deleted", "moderation"}, {"purge", "moderation"}, {"moderate", "moderation"},
}

// Privileges NodeBB gives a new category (src/categories/create.js).
var (
	defaultPrivileges = []string{
		"groups:find", "groups:read", "groups:topics:read", "groups:topics:create",
		"groups:topics:reply", "groups:topics:crosspost", "groups:topics:tag", "groups:posts:edit",
		"groups:posts:history", "groups:posts:delete", "groups:posts:upvote",
		"groups:posts:downvote", "groups:topics:delete",
	}
	modPrivileges   = append(slices.Clone(defaultPrivileges), "groups:topics:schedule", "groups:posts:view_deleted", "groups:purge")
	guestPrivileges = []string{"groups:find", "groups:read", "groups:topics:read"}
)

// Groups of NodeBB (src/groups/index.js).
var (
	ephemeralGroups = []string{"guests", "spiders", "fediverse"}
	systemGroups    = []string{"registered-users", "verified-users", "unverified-users", "banned-users", "administrators", "Global Moderators"}
)

type user struct {
	uid      int64
	username string
	slug     string
	email    string
	// emailConfirmed is the user's "email:confirmed" field.
	emailConfirmed bool
	// pendingEmail is an address the user asked for and has not confirmed yet
	// (NodeBB's confirm:<code> object): not the user's e-mail, not looked up.
	pendingEmail string
}

type category struct {
	cid         int64
	name        string
	handle      string
	description string
	parentCid   int64
	disabled    int
	order       int64
}

type group struct {
	name, slug, description string
	private, hidden         int
	disableJoinRequests     int
	system                  int
	createtime              int64
	members                 []int64 // in joining order
	owners                  map[int64]bool
}

type state struct {
	users     map[int64]*user
	uidByName map[string]int64
	nextUID   int64
	// groupCreators hold the global group:create privilege besides the
	// administrators (AllowGroupCreation).
	groupCreators map[int64]bool

	cats    map[int64]*category
	nextCID int64

	groups map[string]*group // by name
	clock  int64

	// posts in the order they were made; topics are their tids.
	posts            []*post
	nextTID, nextPID int64

	// privs maps a cid and a privilege ("groups:read", or a user privilege
	// "read") to its members: group names or uids as strings.
	privs map[int64]map[string]map[string]bool
}

func newState() *state {
	st := &state{
		users: map[int64]*user{}, uidByName: map[string]int64{},
		cats: map[int64]*category{}, groups: map[string]*group{},
		privs:         map[int64]map[string]map[string]bool{},
		groupCreators: map[int64]bool{},
	}
	for _, g := range systemGroups {
		st.addGroup(g, "", 0, 1)
	}
	st.groups["administrators"].disableJoinRequests = 1
	uid := st.createUser("admin")
	st.join("administrators", uid)
	return st
}

func (st *state) tick() int64 { st.clock++; return st.clock }

func (st *state) createUser(username string) int64 {
	st.nextUID++
	u := &user{uid: st.nextUID, username: username, slug: nodebb.Slugify(username)}
	st.users[u.uid] = u
	st.uidByName[username] = u.uid
	st.join("registered-users", u.uid)
	return u.uid
}

// uniqueUsername mimics User.uniqueUsername: a taken name gets a number.
func (st *state) uniqueUsername(name string) string {
	if !st.slugTaken(nodebb.Slugify(name)) {
		return name
	}
	for n := 0; ; n++ {
		c := name + " " + strconv.Itoa(n)
		if !st.slugTaken(nodebb.Slugify(c)) {
			return c
		}
	}
}

func (st *state) deleteUser(uid int64) {
	u := st.users[uid]
	delete(st.users, uid)
	delete(st.uidByName, u.username)
	for _, g := range st.groups {
		st.leave(g.name, uid)
	}
	key := strconv.FormatInt(uid, 10)
	for _, byPriv := range st.privs {
		for _, members := range byPriv {
			delete(members, key)
		}
	}
}

func (st *state) addGroup(name, description string, private, system int) *group {
	g := &group{
		name: name, slug: nodebb.Slugify(name), description: description,
		private: private, system: system, createtime: st.tick(), owners: map[int64]bool{},
	}
	st.groups[name] = g
	return g
}

func (st *state) groupBySlug(slug string) *group {
	for _, g := range st.groups {
		if g.slug == slug {
			return g
		}
	}
	return nil
}

func (st *state) groupExists(name string) bool {
	return st.groups[name] != nil || slices.Contains(ephemeralGroups, name)
}

// slugTaken is meta.slugTaken: users, groups and category handles share slugs.
func (st *state) slugTaken(slug string) bool {
	if st.groupBySlug(slug) != nil {
		return true
	}
	for _, u := range st.users {
		if u.slug == slug {
			return true
		}
	}
	for _, c := range st.cats {
		if c.handle == slug {
			return true
		}
	}
	return false
}

func (st *state) isMember(name string, uid int64) bool {
	g := st.groups[name]
	return g != nil && slices.Contains(g.members, uid)
}

func (st *state) isAdmin(uid int64) bool { return st.isMember("administrators", uid) }

// join is Groups.join: a no-op for members; administrators also become owners.
func (st *state) join(name string, uid int64) {
	g := st.groups[name]
	if g == nil || slices.Contains(g.members, uid) {
		return
	}
	g.members = append(g.members, uid)
	if st.isAdmin(uid) {
		g.owners[uid] = true
	}
}

func (st *state) leave(name string, uid int64) {
	g := st.groups[name]
	if g == nil {
		return
	}
	g.members = slices.DeleteFunc(g.members, func(m int64) bool { return m == uid })
	delete(g.owners, uid)
}

// ownersAndMembers is Groups.getOwnersAndMembers(start, stop), quirks included:
// owners first, then members without the owners, which can repeat a user on the
// next page.
func (st *state) ownersAndMembers(g *group, start, stop int) []*user {
	owners := slices.Sorted(maps.Keys(g.owners))
	count := stop - start + 1
	var out []*user
	for i := start; i < len(owners) && i <= stop; i++ {
		if u := st.users[owners[i]]; u != nil {
			out = append(out, u)
		}
	}
	memberStart := max(0, start-len(owners))
	memberStop := max(0, start-len(owners)+count-1)
	for len(out) < count && memberStart < len(g.members) {
		for i := memberStart; i <= memberStop && i < len(g.members); i++ {
			if u := st.users[g.members[i]]; u != nil && !g.owners[u.uid] {
				out = append(out, u)
			}
		}
		memberStart = memberStop + 1
		memberStop = memberStart + count - 1
	}
	if len(out) > count {
		out = out[:count]
	}
	return out
}

func (st *state) createCategory(name, description string, parent int64, disabled int, order int64) *category {
	st.nextCID++
	c := &category{
		cid: st.nextCID, name: name, description: description,
		parentCid: parent, disabled: disabled,
		handle: st.uniqueHandle(nodebb.Slugify(name)),
	}
	if order == 0 {
		order = 1
		for _, sib := range st.children(parent) {
			order = min(order, sib.order-1)
		}
	}
	c.order = order
	st.cats[c.cid] = c
	st.give(c.cid, defaultPrivileges, "registered-users", "fediverse")
	st.give(c.cid, modPrivileges, "administrators", "Global Moderators")
	st.give(c.cid, guestPrivileges, "guests", "spiders")
	return c
}

// uniqueHandle is Categories.generateHandle: the name's slug, with a random
// suffix when a user, group or category holds it. Groups cannot take it later.
func (st *state) uniqueHandle(slug string) string {
	if slug == "" {
		slug = "category"
	}
	h := slug
	for st.slugTaken(h) {
		h = slug + "-" + strings.ToLower(rand.Text()[:8])
	}
	return h
}

func (st *state) children(parent int64) []*category {
	var out []*category
	for _, c := range st.cats {
		if c.parentCid == parent {
			out = append(out, c)
		}
	}
	return out
}

// sortedCategories orders by the "categories:cid" sorted set: order, then cid.
func (st *state) sortedCategories() []*category {
	out := slices.Collect(maps.Values(st.cats))
	slices.SortFunc(out, func(a, b *category) int {
		return cmp.Or(cmp.Compare(a.order, b.order), cmp.Compare(a.cid, b.cid))
	})
	return out
}

func (st *state) give(cid int64, privs []string, members ...string) {
	if st.privs[cid] == nil {
		st.privs[cid] = map[string]map[string]bool{}
	}
	for _, p := range privs {
		if st.privs[cid][p] == nil {
			st.privs[cid][p] = map[string]bool{}
		}
		for _, m := range members {
			st.privs[cid][p][m] = true
		}
	}
}

func (st *state) rescind(cid int64, privs []string, member string) {
	for _, p := range privs {
		delete(st.privs[cid][p], member)
	}
}

func (st *state) hasPriv(cid int64, priv, member string) bool {
	return st.privs[cid][priv][member]
}

// can says whether uid (0: a guest) holds a privilege in a category through its
// groups; administrators can do everything.
func (st *state) can(uid, cid int64, priv string) bool {
	if uid > 0 && st.isAdmin(uid) {
		return true
	}
	if uid <= 0 {
		return st.hasPriv(cid, "groups:"+priv, "guests")
	}
	if st.hasPriv(cid, priv, strconv.FormatInt(uid, 10)) {
		return true
	}
	for name, g := range st.groups {
		if slices.Contains(g.members, uid) && st.hasPriv(cid, "groups:"+priv, name) {
			return true
		}
	}
	return false
}

// privilegeGroups is the group list of privileges.categories.list: groups with a
// privilege here in creation order (newest first), after the ephemeral groups,
// with NodeBB's system groups moved to the front and administrators left out.
func (st *state) privilegeGroups(cid int64) []string {
	var holders []*group
	for _, g := range st.groups {
		for _, members := range st.privs[cid] {
			if members[g.name] {
				holders = append(holders, g)
				break
			}
		}
	}
	slices.SortFunc(holders, func(a, b *group) int { return cmp.Compare(b.createtime, a.createtime) })
	names := slices.Clone(ephemeralGroups)
	for _, g := range holders {
		names = append(names, g.name)
	}
	for _, front := range []string{"banned-users", "Global Moderators", "unverified-users", "verified-users", "registered-users"} {
		names = slices.DeleteFunc(names, func(n string) bool { return n == front })
		names = append([]string{front}, names...)
	}
	return slices.DeleteFunc(names, func(n string) bool { return n == "administrators" })
}
