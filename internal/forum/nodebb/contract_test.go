package nodebb_test

// The forum contract suite: one set of assertions about the forum.Client, run
// against the in-repo fake NodeBB by default and against a real NodeBB v4 when
// NODEBB_URL is set. See docs/forum-contract.md.
//
//	NODEBB_URL         the forum's URL, e.g. http://127.0.0.1:4567
//	NODEBB_TOKEN       an administrator's API token (required with NODEBB_URL)
//	NODEBB_UID         the uid a master token acts for (default 1)
//	NODEBB_TEST_USERS  two or more existing usernames to use instead of creating
//	                   test users through POST /api/v3/users
//
// Everything the suite creates on a real forum carries a random "ct…" prefix
// and is deleted at the end of the test that made it.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/plan"
)

// target is the forum the suite runs against.
type target struct {
	name  string // "fake" or the URL
	url   string
	token string
	uid   int64
	// users are usernames of ordinary accounts the suite may put in groups.
	users []string
	// passwords of the users the suite created, by username (none for
	// NODEBB_TEST_USERS): they log in, for routes a token cannot use.
	passwords map[string]string
	// admin and password log in as an administrator (token minting); empty when
	// not given for a real forum.
	admin, password string
	// fake is the stand-in, when the target is one.
	fake *fake.Server
	// prefix makes the names of this run unique.
	prefix string
}

const fakeToken = "contract-master-token"

func newTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{prefix: "ct" + strings.ToLower(rand.Text()[:6])}
	if u := os.Getenv("NODEBB_URL"); u != "" {
		tg.name, tg.url, tg.token = u, u, os.Getenv("NODEBB_TOKEN")
		if tg.token == "" {
			t.Fatal("NODEBB_URL is set but NODEBB_TOKEN is not: give an administrator's API token")
		}
		tg.uid = 1
		if s := os.Getenv("NODEBB_UID"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				t.Fatalf("NODEBB_UID=%q is not a user id", s)
			}
			tg.uid = n
		}
		tg.admin, tg.password = os.Getenv("NODEBB_ADMIN_USERNAME"), os.Getenv("NODEBB_ADMIN_PASSWORD")
	} else {
		srv := fake.NewServer(fakeToken)
		if err := srv.Start("127.0.0.1:0"); err != nil {
			t.Fatalf("cannot start the fake NodeBB: %v", err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		tg.name, tg.url, tg.token, tg.uid = "fake", srv.URL(), fakeToken, fake.AdminUID
		tg.admin, tg.password, tg.fake = "admin", "contract-admin-password", srv
		srv.SetupAdmin(tg.admin, tg.password)
	}
	tg.users = testUsers(t, tg)
	return tg
}

// testUsers returns NODEBB_TEST_USERS, or creates two accounts (removed at the
// end) through the same API on the fake and on a real forum.
func testUsers(t *testing.T, tg *target) []string {
	if s := os.Getenv("NODEBB_TEST_USERS"); s != "" {
		users := strings.Split(s, ",")
		if len(users) < 2 {
			t.Fatal("NODEBB_TEST_USERS must name at least two users, comma-separated")
		}
		return users
	}
	var users []string
	tg.passwords = map[string]string{}
	for _, suffix := range []string{"a", "b"} {
		name := tg.prefix + suffix // at most 16 characters, NodeBB's default limit
		var out struct {
			UID      json.Number `json:"uid"`
			Username string      `json:"username"`
		}
		password := rand.Text()
		if err := tg.raw(http.MethodPost, "/api/v3/users", map[string]any{"username": name, "password": password}, &out); err != nil {
			t.Fatalf("cannot create test user %q (set NODEBB_TEST_USERS to use existing ones): %v", name, err)
		}
		if out.Username != name {
			t.Fatalf("test user %q was created as %q", name, out.Username)
		}
		uid := out.UID.String()
		t.Cleanup(func() {
			if err := tg.raw(http.MethodDelete, "/api/v3/users/"+uid, nil, nil); err != nil {
				t.Errorf("cleanup: cannot delete test user %q: %v", name, err)
			}
		})
		users = append(users, name)
		tg.passwords[name] = password
	}
	return users
}

// raw calls the forum's API directly, for setting up what the client does not
// do (users) and for changes "by hand".
func (tg *target) raw(method, path string, body, out any) error {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, tg.url+path+"?_uid="+strconv.FormatInt(tg.uid, 10), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tg.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	var env struct {
		Status   struct{ Code, Message string }
		Response json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("%s %s: HTTP %d, undecodable answer: %w", method, path, resp.StatusCode, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d %s: %s", method, path, resp.StatusCode, env.Status.Code, env.Status.Message)
	}
	if out != nil {
		return json.Unmarshal(env.Response, out)
	}
	return nil
}

// client builds a client for the target that counts its requests.
func (tg *target) client(t *testing.T, mutate ...func(*nodebb.Config)) (*nodebb.Client, *nodebb.Counter) {
	t.Helper()
	var n nodebb.Counter
	cfg := nodebb.Config{URL: tg.url, Token: tg.token, UID: tg.uid, Observer: n.Observe}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := nodebb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

// cleanupCategory deletes a category at the end of the test.
func cleanupCategory(t *testing.T, c forum.Client, id int64) {
	t.Cleanup(func() {
		if err := c.DeleteCategory(context.Background(), id); err != nil {
			t.Errorf("cleanup: cannot delete category %d: %v", id, err)
		}
	})
}

func cleanupGroup(t *testing.T, c forum.Client, name string) {
	t.Cleanup(func() {
		if err := c.DeleteGroup(context.Background(), name); err != nil {
			t.Errorf("cleanup: cannot delete group %q: %v", name, err)
		}
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// result carries a call's two results to get, which fails the test on error:
// must(c.Ping(ctx)).get(t).
type result[T any] struct {
	v   T
	err error
}

func must[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) get(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func TestContract(t *testing.T) {
	tg := newTarget(t)
	t.Logf("forum contract suite against %s, names prefixed %q", tg.name, tg.prefix)

	t.Run("ping and version", func(t *testing.T) { testPing(t, tg) })
	t.Run("category lifecycle", func(t *testing.T) { testCategoryLifecycle(t, tg) })
	t.Run("category adoption after losing its id", func(t *testing.T) { testAdoption(t, tg) })
	t.Run("privileges", func(t *testing.T) { testPrivileges(t, tg) })
	t.Run("groups and memberships", func(t *testing.T) { testGroups(t, tg) })
	t.Run("a shared forum group's proof survives the forum", func(t *testing.T) { testGroupProof(t, tg) })
	t.Run("a group a user made is never the operator's", func(t *testing.T) { testUserMadeGroup(t, tg) })
	t.Run("e-mail look-ups answer confirmed addresses only", func(t *testing.T) { testLookupEmail(t, tg) })
	t.Run("errors", func(t *testing.T) { testErrors(t, tg) })
	t.Run("plan and apply converge and then write nothing", func(t *testing.T) { testPlanApply(t, tg) })
	t.Run("minting a master token with the admin's password", func(t *testing.T) { testMintToken(t, tg) })
	t.Run("recent posts: who posted where and when", func(t *testing.T) { testRecentPosts(t, tg) })
}

// testRecentPosts: the posts the insights count, as RecentPosts reads them: a
// topic's first post and a reply, each with its topic, category, poster and
// time, and whether it opened the topic; none of them when asked only for
// posts made after them.
func testRecentPosts(t *testing.T, tg *target) {
	c, _ := tg.client(t)
	ctx := ctx(t)
	cat := must(c.CreateCategory(ctx, forum.CategorySpec{Name: tg.prefix + " Posts", Description: "made by the contract suite"})).get(t)
	cleanupCategory(t, c, cat.ID)
	since := time.Now().Add(-time.Minute)
	var topic struct {
		TID     int64 `json:"tid"`
		MainPID int64 `json:"mainPid"`
	}
	if err := tg.raw(http.MethodPost, "/api/v3/topics", map[string]any{"cid": cat.ID, "title": tg.prefix + " a question",
		"content": "Shall we ship on Friday?"}, &topic); err != nil {
		t.Fatal(err)
	}
	var reply struct {
		PID int64 `json:"pid"`
	}
	if err := tg.raw(http.MethodPost, "/api/v3/topics/"+strconv.FormatInt(topic.TID, 10),
		map[string]any{"content": "Yes, after the review."}, &reply); err != nil {
		t.Fatal(err)
	}
	posts, complete := recentPosts(t, c, since)
	if !complete {
		t.Error("RecentPosts since a minute ago ran out of pages")
	}
	byID := map[int64]forum.Post{}
	for _, p := range posts {
		byID[p.ID] = p
	}
	for pid, start := range map[int64]bool{topic.MainPID: true, reply.PID: false} {
		p, found := byID[pid]
		switch {
		case !found:
			t.Errorf("post %d is not among the recent posts %+v", pid, posts)
		case p.Topic != topic.TID || p.Category != cat.ID || p.UID != tg.uid || p.TopicStart != start ||
			p.At.Before(since) || p.At.After(time.Now().Add(time.Minute)):
			t.Errorf("post %d = %+v, want topic %d, category %d, by uid %d, opening the topic %v, made in the last minute",
				pid, p, topic.TID, cat.ID, tg.uid, start)
		}
	}
	later, _ := recentPosts(t, c, time.Now().Add(time.Minute))
	for _, p := range later {
		if p.ID == topic.MainPID || p.ID == reply.PID {
			t.Errorf("RecentPosts since a minute from now has post %d", p.ID)
		}
	}
}

func recentPosts(t *testing.T, c *nodebb.Client, since time.Time) ([]forum.Post, bool) {
	t.Helper()
	posts, complete, err := c.RecentPosts(ctx(t), since, 5)
	if err != nil {
		t.Fatal(err)
	}
	return posts, complete
}

// testMintToken: the operator mints its own token for a deployed forum from the
// admin account NodeBB's setup made. The token is a master token (it acts for
// any user by _uid) for the administrator who logged in; a wrong password
// mints nothing and is not quoted.
func testMintToken(t *testing.T, tg *target) {
	if tg.admin == "" || tg.password == "" {
		t.Skip("NODEBB_ADMIN_USERNAME and NODEBB_ADMIN_PASSWORD are not set: no administrator to log in as")
	}
	var n nodebb.Counter
	tok := must(nodebb.MintToken(ctx(t), forum.Login{URL: tg.url, Username: tg.admin, Password: tg.password,
		Description: "collab-operator contract suite " + tg.prefix}, n.Observe)).get(t)
	c, err := nodebb.New(nodebb.Config{URL: tg.url, Token: tok.Secret, UID: tok.UID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The token deletes itself (DELETE /api/v3/admin/tokens/{token}).
		if err := (&target{url: tg.url, token: tok.Secret, uid: tok.UID}).raw(http.MethodDelete, "/api/v3/admin/tokens/"+tok.Secret, nil, nil); err != nil {
			t.Errorf("cleanup: cannot delete the minted token: %v", err)
		}
	})
	self := must(c.Ping(ctx(t))).get(t)
	if self.UID != tok.UID || !self.Admin || self.Username != tg.admin {
		t.Errorf("the minted token acts as %+v, want %s (uid %d), an administrator", self, tg.admin, tok.UID)
	}
	if got := n.Writes(); got != 2 {
		t.Errorf("minting made %d writes, want 2 (login, create token)", got)
	}
	// A master token acts for whoever _uid names.
	uid := must(c.LookupUser(ctx(t), tg.users[0])).get(t)
	asUser, _ := tg.client(t, func(cfg *nodebb.Config) { cfg.Token, cfg.UID = tok.Secret, uid })
	if self := must(asUser.Ping(ctx(t))).get(t); self.UID != uid || self.Admin {
		t.Errorf("the minted token with _uid=%d acts as %+v, want that user: not a master token", uid, self)
	}

	minted := 0
	if tg.fake != nil {
		minted = tg.fake.MintedTokens()
	}
	const wrong = "not-the-password-0123"
	_, err = nodebb.MintToken(ctx(t), forum.Login{URL: tg.url, Username: tg.admin, Password: wrong}, nil)
	if !errors.Is(err, forum.ErrForbidden) || strings.Contains(err.Error(), wrong) {
		t.Errorf("MintToken with a wrong password: %v, want ErrForbidden without the password", err)
	}
	if tg.fake != nil && tg.fake.MintedTokens() != minted {
		t.Errorf("a wrong password minted a token")
	}
}

func testPing(t *testing.T, tg *target) {
	c, _ := tg.client(t)
	self := must(c.Ping(ctx(t))).get(t)
	if self.UID != tg.uid || !self.Admin || self.Username == "" {
		t.Errorf("Ping = %+v, want uid %d, an administrator", self, tg.uid)
	}
	v := must(c.Version(ctx(t))).get(t)
	if !strings.HasPrefix(v, "4.") {
		t.Errorf("Version = %q, want NodeBB 4.x", v)
	}
}

func testCategoryLifecycle(t *testing.T, tg *target) {
	c, n := tg.client(t)
	ctx := ctx(t)
	spec := forum.CategorySpec{Name: tg.prefix + " Lifecycle", Description: "made by the contract suite", Order: 1}
	created := must(c.CreateCategory(ctx, spec)).get(t)
	cleanupCategory(t, c, created.ID)
	if created.ID <= 0 || created.Name != spec.Name || created.Description != spec.Description ||
		created.ParentID != 0 || created.Disabled {
		t.Errorf("CreateCategory = %+v, want %+v", created, spec)
	}
	checkDefaultPrivileges(t, created)
	found := must(c.ObserveCategory(ctx, created.ID, 0, spec.Name)).get(t)
	if diff := cmp.Diff(created, found); diff != "" {
		t.Errorf("ObserveCategory by id differs from CreateCategory (-create +observe):\n%s", diff)
	}

	renamed := spec.Name + " 2"
	if err := c.UpdateCategory(ctx, created.ID, []forum.CategoryAction{
		forum.SetName{Name: renamed}, forum.SetDescription{Description: "changed"},
	}); err != nil {
		t.Fatal(err)
	}
	got := must(c.ObserveCategory(ctx, created.ID, 0, renamed)).get(t)
	if got.Name != renamed || got.Description != "changed" || got.ID != created.ID {
		t.Errorf("after update: %+v", got)
	}
	checkDisable(t, c, n, created.ID, renamed)
	checkDelete(t, c, n, created.ID, renamed)
}

// checkDefaultPrivileges: NodeBB gives every new category its defaults:
// registered users may read and post, guests may read. The plan takes them
// away where needed.
func checkDefaultPrivileges(t *testing.T, created *forum.ObservedCategory) {
	t.Helper()
	for _, p := range []string{forum.PrivFind, forum.PrivRead, forum.PrivTopicsCreate} {
		if !created.Privileges.Has(forum.GroupRegisteredUsers, p) {
			t.Errorf("new category: registered-users lack the default %s: %v", p, created.Privileges)
		}
	}
	if !created.Privileges.Has(forum.GroupGuests, forum.PrivRead) || created.Privileges.Has(forum.GroupGuests, forum.PrivTopicsCreate) {
		t.Errorf("new category: guests should read and not post: %v", created.Privileges[forum.GroupGuests])
	}
	if _, listed := created.Privileges[forum.GroupAdministrators]; listed {
		t.Error("the privilege list names administrators; NodeBB leaves them out")
	}
	for _, p := range []string{forum.PrivFind, forum.PrivRead, forum.PrivModerate, forum.PrivTopicsCreate} {
		if !slices.Contains(created.KnownPrivileges, p) {
			t.Errorf("KnownPrivileges %v lack %s", created.KnownPrivileges, p)
		}
	}
}

func checkDisable(t *testing.T, c forum.Client, n *nodebb.Counter, id int64, name string) {
	t.Helper()
	ctx := ctx(t)
	if err := c.DisableCategory(ctx, id); err != nil {
		t.Fatal(err)
	}
	got := must(c.ObserveCategory(ctx, id, 0, name)).get(t)
	if got == nil || !got.Disabled {
		t.Fatalf("after DisableCategory: %+v, want disabled", got)
	}
	writes := n.Writes()
	if err := c.DisableCategory(ctx, id); err != nil {
		t.Fatal(err)
	}
	if d := n.Writes() - writes; d != 0 {
		t.Errorf("disabling a disabled category made %d writes, want 0", d)
	}
	// NodeBB's category list leaves disabled categories out, even for
	// administrators: a disabled category is found by id only.
	if got := must(c.ObserveCategory(ctx, 0, 0, name)).get(t); got != nil {
		t.Errorf("a disabled category was found by name: %+v", got)
	}
	if err := c.UpdateCategory(ctx, id, []forum.CategoryAction{forum.SetDisabled{Disabled: false}}); err != nil {
		t.Fatal(err)
	}
	if got := must(c.ObserveCategory(ctx, 0, 0, name)).get(t); got == nil || got.ID != id || got.Disabled {
		t.Errorf("after enabling, by name: %+v", got)
	}
}

func checkDelete(t *testing.T, c forum.Client, n *nodebb.Counter, id int64, name string) {
	t.Helper()
	ctx := ctx(t)
	if err := c.DeleteCategory(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := must(c.ObserveCategory(ctx, id, 0, name)).get(t); got != nil {
		t.Errorf("after DeleteCategory: %+v, want nothing", got)
	}
	writes := n.Writes()
	if err := c.DeleteCategory(ctx, id); err != nil {
		t.Errorf("deleting a deleted category: %v, want nil", err)
	}
	if err := c.DisableCategory(ctx, id); err != nil {
		t.Errorf("disabling a deleted category: %v, want nil", err)
	}
	if d := n.Writes() - writes; d != 0 {
		t.Errorf("deleting and disabling a gone category made %d writes, want 0", d)
	}
}

func testAdoption(t *testing.T, tg *target) {
	c, n := tg.client(t)
	ctx := ctx(t)
	parent := must(c.CreateCategory(ctx, forum.CategorySpec{Name: tg.prefix + " Parent"})).get(t)
	cleanupCategory(t, c, parent.ID)
	spec := forum.CategorySpec{Name: tg.prefix + " Child", ParentID: parent.ID, Description: "adopt me"}
	child := must(c.CreateCategory(ctx, spec)).get(t)
	cleanupCategory(t, c, child.ID)
	if child.ParentID != parent.ID {
		t.Fatalf("child's parent = %d, want %d", child.ParentID, parent.ID)
	}

	// The status write was lost: no id, or an id that no longer exists.
	for _, id := range []int64{0, 999_999_999} {
		got := must(c.ObserveCategory(ctx, id, parent.ID, spec.Name)).get(t)
		if got == nil || got.ID != child.ID {
			t.Errorf("ObserveCategory(%d, parent, name) = %+v, want category %d", id, got, child.ID)
		}
	}
	// The name only counts under the right parent.
	if got := must(c.ObserveCategory(ctx, 0, 0, spec.Name)).get(t); got != nil {
		t.Errorf("found the child under the root: %+v", got)
	}
	// Creating again adopts and writes nothing.
	writes := n.Writes()
	again := must(c.CreateCategory(ctx, spec)).get(t)
	if again.ID != child.ID {
		t.Errorf("CreateCategory again made category %d, want the existing %d", again.ID, child.ID)
		cleanupCategory(t, c, again.ID)
	}
	if d := n.Writes() - writes; d != 0 {
		t.Errorf("CreateCategory of an existing category made %d writes, want 0", d)
	}
}

func testPrivileges(t *testing.T, tg *target) {
	c, n := tg.client(t)
	ctx := ctx(t)
	group := tg.prefix + "-priv"
	must(c.CreateGroup(ctx, forum.GroupSpec{Name: group})).get(t)
	cleanupGroup(t, c, group)
	cat := must(c.CreateCategory(ctx, forum.CategorySpec{Name: tg.prefix + " Privileges"})).get(t)
	cleanupCategory(t, c, cat.ID)

	if err := c.UpdateCategory(ctx, cat.ID, []forum.CategoryAction{
		forum.Revoke{Group: forum.GroupRegisteredUsers, Privilege: forum.PrivFind},
		forum.Revoke{Group: forum.GroupRegisteredUsers, Privilege: forum.PrivRead},
		forum.Grant{Group: group, Privilege: forum.PrivRead},
		forum.Grant{Group: group, Privilege: forum.PrivModerate},
	}); err != nil {
		t.Fatal(err)
	}
	got := must(c.ObserveCategory(ctx, cat.ID, 0, cat.Name)).get(t)
	if diff := cmp.Diff([]string{forum.PrivModerate, forum.PrivRead}, got.Privileges[group]); diff != "" {
		t.Errorf("privileges of %s (-want +got):\n%s", group, diff)
	}
	if got.Privileges.Has(forum.GroupRegisteredUsers, forum.PrivRead) || got.Privileges.Has(forum.GroupRegisteredUsers, forum.PrivFind) {
		t.Errorf("registered-users kept revoked privileges: %v", got.Privileges[forum.GroupRegisteredUsers])
	}
	if !got.Privileges.Has(forum.GroupRegisteredUsers, forum.PrivTopicsRead) {
		t.Errorf("registered-users lost a privilege nobody revoked: %v", got.Privileges[forum.GroupRegisteredUsers])
	}

	// Granting what is held and revoking what is not are harmless no-ops.
	if err := c.UpdateCategory(ctx, cat.ID, []forum.CategoryAction{
		forum.Grant{Group: group, Privilege: forum.PrivRead},
		forum.Revoke{Group: group, Privilege: forum.PrivPurge},
	}); err != nil {
		t.Errorf("repeated grant and revoke: %v", err)
	}
	// A group the forum does not know is refused.
	writes := n.Writes()
	err := c.UpdateCategory(ctx, cat.ID, []forum.CategoryAction{forum.Grant{Group: tg.prefix + "-nobody", Privilege: forum.PrivRead}})
	if err == nil {
		t.Error("granting to an unknown group succeeded")
	}
	if n.Writes() == writes {
		t.Error("the counter saw no write")
	}
	got = must(c.ObserveCategory(ctx, cat.ID, 0, cat.Name)).get(t)
	if _, listed := got.Privileges[tg.prefix+"-nobody"]; listed {
		t.Error("an unknown group appears in the privileges")
	}
}

func testGroups(t *testing.T, tg *target) {
	c, n := tg.client(t)
	ctx := ctx(t)
	name := tg.prefix + "-members"
	spec := forum.GroupSpec{Name: name, Description: "made by the contract suite"}
	g := must(c.CreateGroup(ctx, spec)).get(t)
	cleanupGroup(t, c, name)

	self := must(c.Ping(ctx)).get(t)
	want := &forum.ObservedGroup{
		Name: name, Slug: name, Description: spec.Description,
		Private: true, JoinRequestsDisabled: true,
		// The creating account becomes the group's owner and first member.
		Members: []forum.Member{{UID: self.UID, Username: self.Username, Owner: true}},
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("CreateGroup (-want +got):\n%s", diff)
	}
	if got := must(c.ObserveGroup(ctx, name)).get(t); !cmp.Equal(g, got) {
		t.Errorf("ObserveGroup = %+v, want %+v", got, g)
	}
	// Creating again adopts the group.
	if again := must(c.CreateGroup(ctx, spec)).get(t); !cmp.Equal(g, again) {
		t.Errorf("CreateGroup again = %+v, want the existing %+v", again, g)
	}

	checkMembers(t, tg, c, name)
	checkGroupNameClashes(t, tg, c)
	checkDeleteGroup(t, tg, c, n, name)
}

// testGroupProof: the proof the controller ends a shared forum group's
// description with comes back as written, after create and after update, so the
// controller can recognise the group it made by it; a group without it is not
// recognised.
func testGroupProof(t *testing.T, tg *target) {
	c, _ := tg.client(t)
	ctx := ctx(t)
	want := plan.DesiredForum(tg.space(), forum.DesiredInput{Shared: true, Proof: c.Proof}).Groups[0]
	cleanupGroup(t, c, want.Name)
	g := must(c.CreateGroup(ctx, want)).get(t)
	if !plan.Proven(want, *g) {
		t.Errorf("created group's description %q does not carry its proof (desired %q)", g.Description, want.Description)
	}
	if err := c.UpdateGroup(ctx, want.Name, []forum.GroupAction{forum.SetGroupSettings{Description: "by hand"}}); err != nil {
		t.Fatal(err)
	}
	if g := must(c.ObserveGroup(ctx, want.Name)).get(t); plan.Proven(want, *g) {
		t.Errorf("a description without the proof proves the group: %q", g.Description)
	}
	if err := c.UpdateGroup(ctx, want.Name, []forum.GroupAction{forum.SetGroupSettings{Description: want.Description}}); err != nil {
		t.Fatal(err)
	}
	if g := must(c.ObserveGroup(ctx, want.Name)).get(t); !plan.Proven(want, *g) {
		t.Errorf("updated group's description %q does not carry its proof", g.Description)
	}
}

// testUserMadeGroup: the operator tells its groups in a shared forum by their
// owner (forum.ObservedGroup.OwnedBy), since their description is public. A
// user given group:create makes a group: the user owns it, and can neither add
// the operator's account to it nor make that account an owner, so the group
// is never owned by the operator's account.
func testUserMadeGroup(t *testing.T, tg *target) {
	c, _ := tg.client(t)
	ctx := ctx(t)
	self := must(c.Ping(ctx)).get(t)
	uid := must(c.LookupUser(ctx, tg.users[0])).get(t)
	priv := "/api/v3/categories/0/privileges/group:create"
	if err := tg.raw(http.MethodPut, priv, map[string]any{"member": strconv.FormatInt(uid, 10)}, nil); err != nil {
		t.Fatalf("cannot give %s group:create: %v", tg.users[0], err)
	}
	t.Cleanup(func() {
		if err := tg.raw(http.MethodDelete, priv, map[string]any{"member": strconv.FormatInt(uid, 10)}, nil); err != nil {
			t.Errorf("cleanup: cannot take group:create from %s: %v", tg.users[0], err)
		}
	})
	asUser, _ := tg.client(t, func(cfg *nodebb.Config) { cfg.UID = uid })
	name := tg.prefix + "-usermade"
	spec := forum.GroupSpec{Name: name, Description: "made by a user in the contract suite"}
	cleanupGroup(t, c, name)
	if _, err := asUser.CreateGroup(ctx, spec); err != nil {
		t.Fatalf("a user with group:create cannot create a group: %v", err)
	}
	// The owner tries to make the operator's account a member, then an owner.
	if err := asUser.UpdateGroup(ctx, name, []forum.GroupAction{forum.AddMember{Username: self.Username}}); err == nil {
		t.Errorf("the group's owner added the operator's account to it")
	}
	// PUT …/ownership/{uid} is behind NodeBB's re-authentication gate
	// (groupsReAuth): by token it is a 401 whatever the group, which says
	// nothing about ownership. The rule itself is checked past the gate, by
	// the user's own session after a forced re-login, where the route answers
	// 400 because the operator's account is not a member.
	grant := "/api/v3/groups/" + nodebb.Slugify(name) + "/ownership/" + strconv.FormatInt(self.UID, 10)
	asUserRaw := &target{url: tg.url, token: tg.token, uid: uid}
	if err := asUserRaw.raw(http.MethodPut, grant, nil, nil); err == nil {
		t.Errorf("the group's owner made the operator's account an owner, by token")
	}
	if password, ok := tg.passwords[tg.users[0]]; ok {
		s := newSession(t, tg.url)
		login := map[string]any{"username": tg.users[0], "password": password}
		if status := s.do(http.MethodPost, "/api/v3/utilities/login", login); status != http.StatusOK {
			t.Fatalf("%s cannot log in: HTTP %d", tg.users[0], status)
		}
		if status := s.do(http.MethodPut, grant, nil); status != http.StatusUnauthorized {
			t.Errorf("PUT %s by a session without re-login: HTTP %d, want 401 (re-authentication gate)", grant, status)
		}
		if status := s.do(http.MethodPost, "/api/v3/utilities/login", login); status != http.StatusOK {
			t.Fatalf("%s cannot log in again: HTTP %d", tg.users[0], status)
		}
		if status := s.do(http.MethodPut, grant, nil); status != http.StatusBadRequest {
			t.Errorf("PUT %s by the owner's re-authenticated session: HTTP %d, want 400 (the operator's account is not a member)", grant, status)
		}
	}
	g := must(c.ObserveGroup(ctx, name)).get(t)
	want := []forum.Member{{UID: uid, Username: tg.users[0], Owner: true}}
	if diff := cmp.Diff(want, g.Members); diff != "" {
		t.Errorf("members of a group a user made (-want +got):\n%s", diff)
	}
	if g.OwnedBy(self.UID) || !g.OwnedBy(uid) {
		t.Errorf("OwnedBy(operator %d) = %v, OwnedBy(user %d) = %v; want false, true", self.UID, g.OwnedBy(self.UID), uid, g.OwnedBy(uid))
	}
	mine := must(c.CreateGroup(ctx, forum.GroupSpec{Name: tg.prefix + "-opmade"})).get(t)
	cleanupGroup(t, c, mine.Name)
	if !mine.OwnedBy(self.UID) {
		t.Errorf("a group the operator made is not owned by it: %+v", mine.Members)
	}
}

// testLookupEmail: a user asks for a new e-mail address (PUT /api/v3/users/{uid}
// as themself): until it is confirmed the look-up finds nobody by it. Once an
// administrator confirms it (POST /api/v3/users/{uid}/emails/{email}/confirm),
// the look-up finds the user, whatever the case of the address asked for. It
// changes a user's address, so it runs only on the accounts the suite made.
func testLookupEmail(t *testing.T, tg *target) {
	if os.Getenv("NODEBB_TEST_USERS") != "" {
		t.Skip("NODEBB_TEST_USERS is set: the suite does not change the e-mail address of existing accounts")
	}
	c, _ := tg.client(t)
	ctx := ctx(t)
	uid := must(c.LookupUser(ctx, tg.users[0])).get(t)
	addr := tg.prefix + "@contract.example"
	asUser := &target{url: tg.url, token: tg.token, uid: uid}
	// A user changing their own address gives their password, if they have one
	// (api/users.js isPrivilegedOrSelfAndPasswordMatch).
	change := map[string]any{"email": addr}
	if password, ok := tg.passwords[tg.users[0]]; ok {
		change["password"] = password
	}
	if err := asUser.raw(http.MethodPut, "/api/v3/users/"+strconv.FormatInt(uid, 10), change, nil); err != nil {
		t.Fatalf("%s cannot ask for a new address: %v", tg.users[0], err)
	}
	if name, err := c.LookupEmail(ctx, addr); !errors.Is(err, forum.ErrNotFound) {
		t.Errorf("LookupEmail(unconfirmed) = %q, %v; want ErrNotFound", name, err)
	}
	if err := tg.raw(http.MethodPost, "/api/v3/users/"+strconv.FormatInt(uid, 10)+"/emails/"+addr+"/confirm", nil, nil); err != nil {
		t.Fatalf("cannot confirm %s's address: %v", tg.users[0], err)
	}
	if name, err := c.LookupEmail(ctx, strings.ToUpper(addr)); err != nil || name != tg.users[0] {
		t.Errorf("LookupEmail(confirmed) = %q, %v; want %s", name, err, tg.users[0])
	}
}

// session is a browser-like login to the forum: a cookie, and the CSRF token
// of /api/config sent with every write.
type session struct {
	t   *testing.T
	url string
	c   *http.Client
}

func newSession(t *testing.T, url string) *session {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &session{t: t, url: url, c: &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request with the session's CSRF token and returns the HTTP status.
func (s *session) do(method, path string, body any) int {
	s.t.Helper()
	resp, err := s.c.Get(s.url + "/api/config")
	if err != nil {
		s.t.Fatal(err)
	}
	var conf struct {
		CSRF string `json:"csrf_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&conf)
	_ = resp.Body.Close()
	if err != nil {
		s.t.Fatalf("GET /api/config: %v", err)
	}
	var rd io.Reader = http.NoBody
	if body != nil { // NodeBB's JSON parser answers a "null" body with a 500
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("x-csrf-token", conf.CSRF)
	resp, err = s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func checkMembers(t *testing.T, tg *target, c forum.Client, name string) {
	t.Helper()
	ctx := ctx(t)
	alice, bob := tg.users[0], tg.users[1]
	if err := c.UpdateGroup(ctx, name, []forum.GroupAction{
		forum.AddMember{Username: alice}, forum.AddMember{Username: bob},
		forum.SetGroupSettings{Description: "changed"},
	}); err != nil {
		t.Fatal(err)
	}
	got := must(c.ObserveGroup(ctx, name)).get(t)
	if !got.HasMember(alice) || !got.HasMember(bob) || got.Description != "changed" || !got.Private || !got.JoinRequestsDisabled {
		t.Fatalf("after update: %+v", got)
	}
	uidBob := must(c.LookupUser(ctx, bob)).get(t)
	if i := slices.IndexFunc(got.Members, func(m forum.Member) bool { return m.Username == bob }); got.Members[i].UID != uidBob || got.Members[i].Owner {
		t.Errorf("member %s = %+v, want uid %d, not an owner", bob, got.Members[i], uidBob)
	}
	// Adding a member again is a harmless no-op.
	if err := c.UpdateGroup(ctx, name, []forum.GroupAction{forum.AddMember{Username: alice}}); err != nil {
		t.Errorf("adding a member twice: %v", err)
	}
	if err := c.UpdateGroup(ctx, name, []forum.GroupAction{forum.RemoveMember{UID: uidBob, Username: bob}}); err != nil {
		t.Fatal(err)
	}
	got = must(c.ObserveGroup(ctx, name)).get(t)
	if !got.HasMember(alice) || got.HasMember(bob) {
		t.Errorf("after removing %s: %+v", bob, got.Members)
	}
	checkUnknownMember(t, tg, c, name)
}

// checkUnknownMember: a user without an account gives ErrNotFound, and the
// other actions still run.
func checkUnknownMember(t *testing.T, tg *target, c forum.Client, name string) {
	t.Helper()
	ctx := ctx(t)
	bob := tg.users[1]
	err := c.UpdateGroup(ctx, name, []forum.GroupAction{
		forum.AddMember{Username: tg.prefix + "nobody"}, forum.AddMember{Username: bob},
	})
	if !errors.Is(err, forum.ErrNotFound) || !errors.Is(err, forum.ErrNoAccount) || !strings.Contains(err.Error(), tg.prefix+"nobody") {
		t.Errorf("adding an unknown user: %v, want ErrNotFound and ErrNoAccount naming the user", err)
	}
	if got := must(c.ObserveGroup(ctx, name)).get(t); !got.HasMember(bob) {
		t.Error("the action after a failed one did not run")
	}
}

func checkGroupNameClashes(t *testing.T, tg *target, c forum.Client) {
	t.Helper()
	ctx := ctx(t)
	// Users, groups and category handles share slugs in NodeBB: a group cannot
	// take a name a category already has. It is reported, not adopted.
	clash := must(c.CreateCategory(ctx, forum.CategorySpec{Name: tg.prefix + " Clash"})).get(t)
	cleanupCategory(t, c, clash.ID)
	if g, err := c.CreateGroup(ctx, forum.GroupSpec{Name: tg.prefix + "-clash"}); err == nil {
		cleanupGroup(t, c, tg.prefix+"-clash")
		t.Errorf("CreateGroup with a category's slug = %+v, want an error", g)
	}
	// NodeBB's own groups are never adopted.
	if _, err := c.CreateGroup(ctx, forum.GroupSpec{Name: forum.GroupAdministrators}); !errors.Is(err, forum.ErrConflict) {
		t.Errorf("CreateGroup(administrators) = %v, want ErrConflict", err)
	}
}

func checkDeleteGroup(t *testing.T, tg *target, c forum.Client, n *nodebb.Counter, name string) {
	t.Helper()
	ctx := ctx(t)
	if err := c.DeleteGroup(ctx, name); err != nil {
		t.Fatal(err)
	}
	if got := must(c.ObserveGroup(ctx, name)).get(t); got != nil {
		t.Errorf("after DeleteGroup: %+v", got)
	}
	writes := n.Writes()
	if err := c.DeleteGroup(ctx, name); err != nil {
		t.Errorf("deleting a deleted group: %v", err)
	}
	if d := n.Writes() - writes; d != 1 {
		t.Errorf("deleting a deleted group made %d writes, want the one DELETE", d)
	}
	if err := c.UpdateGroup(ctx, name, []forum.GroupAction{
		forum.SetGroupSettings{}, forum.AddMember{Username: tg.users[0]},
	}); !errors.Is(err, forum.ErrNotFound) {
		t.Errorf("updating a deleted group: %v, want ErrNotFound", err)
	}
}

func testErrors(t *testing.T, tg *target) {
	c, _ := tg.client(t)
	ctx := ctx(t)
	cat := must(c.CreateCategory(ctx, forum.CategorySpec{Name: tg.prefix + " Errors"})).get(t)
	cleanupCategory(t, c, cat.ID)
	group := tg.prefix + "-errgroup"
	must(c.CreateGroup(ctx, forum.GroupSpec{Name: group})).get(t)
	cleanupGroup(t, c, group)

	t.Run("bad token", func(t *testing.T) { checkBadToken(t, tg, c, cat, group) })
	t.Run("not an administrator", func(t *testing.T) { checkNotAdmin(t, tg, c, cat) })
	t.Run("unknown objects", func(t *testing.T) { checkUnknown(t, tg, c) })
	t.Run("unreachable", func(t *testing.T) {
		down, _ := tg.client(t, func(cfg *nodebb.Config) { cfg.URL = "http://127.0.0.1:1" })
		if _, err := down.Ping(ctx); !errors.Is(err, forum.ErrUnavailable) {
			t.Errorf("Ping of a closed port: %v, want ErrUnavailable", err)
		}
	})
}

func checkBadToken(t *testing.T, tg *target, c forum.Client, cat *forum.ObservedCategory, group string) {
	ctx := ctx(t)
	bad, _ := tg.client(t, func(cfg *nodebb.Config) { cfg.Token = "not-the-token-" + tg.prefix })
	checks := map[string]error{}
	_, checks["Ping"] = bad.Ping(ctx)
	_, checks["ObserveCategory"] = bad.ObserveCategory(ctx, cat.ID, 0, cat.Name)
	_, checks["CreateCategory"] = bad.CreateCategory(ctx, forum.CategorySpec{Name: tg.prefix + " Never"})
	checks["UpdateCategory"] = bad.UpdateCategory(ctx, cat.ID, []forum.CategoryAction{forum.SetName{Name: "x"}})
	_, checks["ObserveGroup"] = bad.ObserveGroup(ctx, group)
	checks["UpdateGroup"] = bad.UpdateGroup(ctx, group, []forum.GroupAction{forum.AddMember{Username: tg.users[0]}})
	for op, err := range checks {
		if !errors.Is(err, forum.ErrUnauthorized) {
			t.Errorf("%s with a bad token: %v, want ErrUnauthorized", op, err)
		}
		if err != nil && strings.Contains(err.Error(), "not-the-token-") {
			t.Errorf("%s: the error quotes the token: %v", op, err)
		}
	}
	if got := must(c.ObserveCategory(ctx, 0, 0, tg.prefix+" Never")).get(t); got != nil {
		cleanupCategory(t, c, got.ID)
		t.Error("a client with a bad token created a category")
	}
}

func checkNotAdmin(t *testing.T, tg *target, c forum.Client, cat *forum.ObservedCategory) {
	ctx := ctx(t)
	uid := must(c.LookupUser(ctx, tg.users[0])).get(t)
	user, _ := tg.client(t, func(cfg *nodebb.Config) { cfg.UID = uid })
	self, err := user.Ping(ctx)
	if err != nil || self.Admin {
		t.Skipf("the token does not act for other users (a user token, not a master token): %+v %v", self, err)
	}
	if _, err := user.CreateCategory(ctx, forum.CategorySpec{Name: tg.prefix + " Never"}); !errors.Is(err, forum.ErrForbidden) {
		t.Errorf("CreateCategory as a non-administrator: %v, want ErrForbidden", err)
	}
	if _, err := user.ObserveCategory(ctx, cat.ID, 0, cat.Name); !errors.Is(err, forum.ErrForbidden) {
		t.Errorf("ObserveCategory as a non-administrator: %v, want ErrForbidden", err)
	}
}

func checkUnknown(t *testing.T, tg *target, c forum.Client) {
	ctx := ctx(t)
	const missing = 999_999_999
	if got, err := c.ObserveCategory(ctx, missing, 0, tg.prefix+" No such category"); got != nil || err != nil {
		t.Errorf("ObserveCategory of an unknown category = %+v, %v; want nil, nil", got, err)
	}
	if err := c.UpdateCategory(ctx, missing, []forum.CategoryAction{forum.SetName{Name: "x"}}); !errors.Is(err, forum.ErrNotFound) {
		t.Errorf("UpdateCategory of an unknown category: %v, want ErrNotFound", err)
	}
	if got, err := c.ObserveGroup(ctx, tg.prefix+"-no-such-group"); got != nil || err != nil {
		t.Errorf("ObserveGroup of an unknown group = %+v, %v; want nil, nil", got, err)
	}
	if err := c.UpdateGroup(ctx, tg.prefix+"-no-such-group", []forum.GroupAction{forum.SetGroupSettings{}}); !errors.Is(err, forum.ErrNotFound) {
		t.Errorf("UpdateGroup of an unknown group: %v, want ErrNotFound", err)
	}
	if _, err := c.LookupUser(ctx, tg.prefix+"nobody"); !errors.Is(err, forum.ErrNotFound) {
		t.Errorf("LookupUser of an unknown user: %v, want ErrNotFound", err)
	}
}

// space is a Department space of the target's test users.
func (tg *target) space() *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Namespace: "dept-" + tg.prefix, Name: tg.prefix},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: "Contract " + tg.prefix,
			Visibility: collabv1.VisibilityDepartment,
			Members: []collabv1.Member{
				{Kind: collabv1.SubjectUser, Name: tg.users[0], Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectUser, Name: tg.users[1], Role: collabv1.RoleMember},
				{Kind: collabv1.SubjectGroup, Name: "everyone-in-" + tg.prefix},
			},
			MemberPolicy: collabv1.MemberPolicyAuthoritative,
			Forum: &collabv1.ForumSpec{Categories: []collabv1.Category{
				{Name: tg.prefix + " RFCs", Description: "Proposals", Posting: collabv1.PostingMembers},
				{Name: tg.prefix + " News", Posting: collabv1.PostingOwners},
			}},
		},
	}
}

// pass is what the controller does on every reconcile, in this order: groups
// first (categories' privileges name them), then categories; for each, observe,
// create when missing, plan, update when the plan is not empty. ids plays the
// status: category name → id.
func pass(ctx context.Context, c forum.Client, want forum.Desired, ids map[string]int64, opts forum.PlanOptions) ([]string, error) {
	var drift []string
	for _, g := range want.Groups {
		obs, err := c.ObserveGroup(ctx, g.Name)
		if err == nil && obs == nil {
			obs, err = c.CreateGroup(ctx, g)
		}
		if err != nil {
			return drift, err
		}
		actions, r := plan.PlanGroup(g, *obs, opts)
		for _, f := range r.Drift {
			drift = append(drift, g.Name+"."+f)
		}
		if len(actions) > 0 {
			if err := c.UpdateGroup(ctx, g.Name, actions); err != nil {
				return drift, err
			}
		}
	}
	for _, cat := range want.Categories {
		obs, err := c.ObserveCategory(ctx, ids[cat.Spec.Name], cat.Spec.ParentID, cat.Spec.Name)
		if err == nil && obs == nil {
			obs, err = c.CreateCategory(ctx, cat.Spec)
		}
		if err != nil {
			return drift, err
		}
		ids[cat.Spec.Name] = obs.ID
		actions, r := plan.PlanCategory(cat, *obs, opts)
		for _, f := range r.Drift {
			drift = append(drift, cat.Spec.Name+"."+f)
		}
		if len(actions) > 0 {
			if err := c.UpdateCategory(ctx, obs.ID, actions); err != nil {
				return drift, err
			}
		}
	}
	return drift, nil
}

func testPlanApply(t *testing.T, tg *target) {
	c, n := tg.client(t)
	ctx := ctx(t)
	self := must(c.Ping(ctx)).get(t)
	want := plan.DesiredForum(tg.space(), forum.DesiredInput{})
	opts := forum.PlanOptions{Authoritative: true, OperatorUID: self.UID}
	for _, g := range want.Groups {
		cleanupGroup(t, c, g.Name)
	}
	ids := map[string]int64{}
	t.Cleanup(func() {
		for _, id := range ids {
			_ = c.DeleteCategory(context.Background(), id)
		}
	})

	if _, err := pass(ctx, c, want, ids, opts); err != nil {
		t.Fatalf("first pass: %v", err)
	}
	first := maps.Clone(ids)
	checkOutcome(t, tg, c, want, ids)

	// Nothing changed: the second pass plans nothing and writes nothing.
	checkQuietPass(t, "second pass", c, n, want, ids, opts)

	// A crash lost the status: the next pass adopts, creates no duplicate.
	lost := map[string]int64{}
	checkQuietPass(t, "pass without ids", c, n, want, lost, opts)
	if diff := cmp.Diff(first, lost); diff != "" {
		t.Errorf("pass without ids found other categories (-first +now):\n%s", diff)
	}

	// Someone changes things by hand; the next pass puts them back.
	changeByHand(t, tg, c, ids)
	drift, err := pass(ctx, c, want, ids, opts)
	if err != nil {
		t.Fatalf("drift pass: %v", err)
	}
	wantDrift := []string{
		tg.prefix + "-owners.settings",
		tg.prefix + "-members.members",
		tg.prefix + " RFCs.name",
		tg.prefix + " RFCs.description",
		tg.prefix + " RFCs.privileges",
	}
	if diff := cmp.Diff(wantDrift, drift); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
	checkQuietPass(t, "pass after repair", c, n, want, ids, opts)
}

// checkOutcome checks what a user would: the groups hold the people, the
// categories give the right access.
func checkOutcome(t *testing.T, tg *target, c forum.Client, want forum.Desired, ids map[string]int64) {
	t.Helper()
	ctx := ctx(t)
	owners := must(c.ObserveGroup(ctx, tg.prefix+"-owners")).get(t)
	members := must(c.ObserveGroup(ctx, tg.prefix+"-members")).get(t)
	if !owners.HasMember(tg.users[0]) || owners.HasMember(tg.users[1]) ||
		!members.HasMember(tg.users[0]) || !members.HasMember(tg.users[1]) {
		t.Errorf("members after the first pass: owners %v, members %v", owners.Members, members.Members)
	}
	for _, cat := range want.Categories {
		obs := must(c.ObserveCategory(ctx, ids[cat.Spec.Name], 0, cat.Spec.Name)).get(t)
		for _, g := range []string{forum.GroupRegisteredUsers, forum.GroupGuests, forum.GroupSpiders, forum.GroupFediverse} {
			if len(obs.Privileges[g]) != 0 {
				t.Errorf("%s: %s keep %v in a Department space", cat.Spec.Name, g, obs.Privileges[g])
			}
		}
		if !obs.Privileges.Has(tg.prefix+"-members", forum.PrivRead) || !obs.Privileges.Has(tg.prefix+"-owners", forum.PrivModerate) {
			t.Errorf("%s: members cannot read or owners cannot moderate: %v", cat.Spec.Name, obs.Privileges)
		}
	}
	news := must(c.ObserveCategory(ctx, ids[tg.prefix+" News"], 0, "")).get(t)
	if news.Privileges.Has(tg.prefix+"-members", forum.PrivTopicsCreate) || !news.Privileges.Has(tg.prefix+"-owners", forum.PrivTopicsCreate) {
		t.Errorf("announcement category: only owners may post: %v", news.Privileges)
	}
}

// checkQuietPass runs a pass that must find no drift and make no write.
func checkQuietPass(t *testing.T, what string, c forum.Client, n *nodebb.Counter, want forum.Desired, ids map[string]int64, opts forum.PlanOptions) {
	t.Helper()
	writes := n.Writes()
	drift, err := pass(ctx(t), c, want, ids, opts)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(drift) != 0 || n.Writes() != writes {
		t.Errorf("%s: drift %v, %d writes; want none", what, drift, n.Writes()-writes)
	}
}

// changeByHand changes the forum through its API, as an administrator would.
func changeByHand(t *testing.T, tg *target, c forum.Client, ids map[string]int64) {
	t.Helper()
	rfcs := ids[tg.prefix+" RFCs"]
	uidBob := must(c.LookupUser(ctx(t), tg.users[1])).get(t)
	err := errors.Join(
		tg.raw(http.MethodPut, fmt.Sprintf("/api/v3/categories/%d", rfcs), map[string]any{"name": "hijacked", "description": "x"}, nil),
		tg.raw(http.MethodPut, fmt.Sprintf("/api/v3/categories/%d/privileges/groups:read", rfcs), map[string]any{"member": forum.GroupRegisteredUsers}, nil),
		tg.raw(http.MethodDelete, fmt.Sprintf("/api/v3/categories/%d/privileges/groups:topics:create", rfcs), map[string]any{"member": tg.prefix + "-members"}, nil),
		tg.raw(http.MethodDelete, fmt.Sprintf("/api/v3/groups/%s-members/membership/%d", tg.prefix, uidBob), nil, nil),
		tg.raw(http.MethodPut, "/api/v3/groups/"+tg.prefix+"-owners", map[string]any{"description": "mine", "private": 0}, nil),
	)
	if err != nil {
		t.Fatalf("changing by hand: %v", err)
	}
}
