package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const token = "master"

// answer is a decoded reply of the fake.
type answer struct {
	status int
	body   string
	env    struct {
		Status struct {
			Code, Message string
		}
		Response map[string]any
	}
}

func call(t *testing.T, url, method, path, auth string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url+path, rd)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, body: string(b)}
	_ = json.Unmarshal(b, &a.env)
	return a
}

func newFake(t *testing.T) (*Server, string) {
	s := NewServer(token)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// TestNodeBBQuirks pins the behaviours of NodeBB the fake copies, so a change to
// the fake that the contract suite would not notice still shows.
func TestNodeBBQuirks(t *testing.T) {
	_, url := newFake(t)
	admin := "?_uid=1"
	// A Department-like category: NodeBB's defaults, then guests lose read.
	created := call(t, url, "POST", "/api/v3/categories"+admin, token, map[string]any{"name": "Secret"})
	if created.status != 200 || created.env.Response["cid"] != float64(1) {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	for _, g := range []string{"guests", "registered-users"} {
		for _, p := range []string{"find", "read"} {
			call(t, url, "DELETE", "/api/v3/categories/1/privileges/groups:"+p+admin, token, map[string]any{"member": g})
		}
	}

	cases := map[string]struct {
		method, path, auth string
		body               any
		status             int
		code, message      string
		response           map[string]any
		raw                string
	}{
		"master token without _uid": {
			method: "GET", path: "/api/v3/categories/1/privileges", auth: token,
			status: 400, code: "bad-request", message: msgMasterNoUID, response: map[string]any{},
		},
		"master token with _uid in the body": {
			method: "POST", path: "/api/v3/categories", auth: token, body: map[string]any{"_uid": 1, "name": "x"},
			status: 200, code: "ok", message: "OK",
		},
		"unknown token is a guest: login routes answer 401": {
			method: "POST", path: "/api/v3/categories" + admin, auth: "wrong", body: map[string]any{"name": "x"},
			status: 401, code: "not-authorised", message: msgAPI401, response: map[string]any{},
		},
		"unknown token is a guest: a category guests cannot read looks absent": {
			method: "GET", path: "/api/v3/categories/1" + admin, auth: "wrong",
			status: 200, code: "ok", message: "OK", response: map[string]any{},
		},
		"unknown category: 200 and an empty response": {
			method: "GET", path: "/api/v3/categories/99" + admin, auth: token,
			status: 200, code: "ok", message: "OK", response: map[string]any{},
		},
		"updating an unknown category: 200 and an empty response": {
			method: "PUT", path: "/api/v3/categories/99" + admin, auth: token, body: map[string]any{"name": "x"},
			status: 200, code: "ok", message: "OK", response: map[string]any{},
		},
		"missing name": {
			method: "POST", path: "/api/v3/categories" + admin, auth: token, body: map[string]any{"description": "x"},
			status: 400, code: "bad-request", message: msgMissingParams + "name",
			response: map[string]any{"params": []any{"name"}},
		},
		"unknown group": {
			method: "PUT", path: "/api/v3/groups/nope/membership/1" + admin, auth: token,
			status: 404, code: "not-found", message: msgNoGroup, response: map[string]any{},
		},
		"unknown uid in a membership call is a 401": {
			method: "PUT", path: "/api/v3/groups/administrators/membership/77" + admin, auth: token,
			status: 401, code: "not-authorised", message: msgInvalidUID, response: map[string]any{},
		},
		"removing a user who is not a member is a 400": {
			method: "DELETE", path: "/api/v3/groups/registered-users/membership/77" + admin, auth: token,
			status: 400, code: "bad-request", message: msgNotMember, response: map[string]any{},
		},
		"privileges of a missing member": {
			method: "PUT", path: "/api/v3/categories/1/privileges/groups:read" + admin, auth: token,
			body:   map[string]any{"member": "nobody"},
			status: 400, code: "bad-request", message: msgNoUserOrGroup, response: map[string]any{},
		},
		"unknown /api/v3 route": {
			method: "GET", path: "/api/v3/nothing", auth: token,
			status: 404, code: "not-found", message: msgAPI404, response: map[string]any{},
		},
		"unknown read route is plain text": {
			method: "GET", path: "/api/user/username/nobody" + admin, auth: token, status: 404, raw: "Not found",
		},
		"/api/self for a guest": {method: "GET", path: "/api/self", status: 401, raw: `"not-authorized"` + "\n"},
		"creating a system group's name": {
			method: "POST", path: "/api/v3/groups" + admin, auth: token, body: map[string]any{"name": "Global Moderators"},
			status: 400, code: "bad-request", message: msgGroupExists, response: map[string]any{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := call(t, url, tc.method, tc.path, tc.auth, tc.body)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
			}
			if tc.raw != "" {
				if a.body != tc.raw {
					t.Errorf("body %q, want %q", a.body, tc.raw)
				}
				return
			}
			if a.env.Status.Code != tc.code || a.env.Status.Message != tc.message {
				t.Errorf("status %+v, want %s %q", a.env.Status, tc.code, tc.message)
			}
			if tc.response != nil {
				if diff := cmp.Diff(tc.response, a.env.Response); diff != "" {
					t.Errorf("response (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestGroupFlagsUseParseInt(t *testing.T) {
	_, url := newFake(t)
	call(t, url, "POST", "/api/v3/groups?_uid=1", token, map[string]any{"name": "a", "private": true, "disableJoinRequests": true})
	call(t, url, "POST", "/api/v3/groups?_uid=1", token, map[string]any{"name": "b"})
	call(t, url, "POST", "/api/v3/groups?_uid=1", token, map[string]any{"name": "c", "private": 1, "disableJoinRequests": "1"})
	for name, want := range map[string][2]float64{"a": {0, 0}, "b": {1, 0}, "c": {1, 1}} {
		var page struct{ Group map[string]any }
		a := call(t, url, "GET", "/api/groups/"+name+"?_uid=1", token, nil)
		_ = json.Unmarshal([]byte(a.body), &page)
		if got := [2]float64{page.Group["private"].(float64), page.Group["disableJoinRequests"].(float64)}; got != want {
			t.Errorf("group %s: private, disableJoinRequests = %v, want %v", name, got, want)
		}
	}
}

func TestMemberPagesRepeatAtTheBoundary(t *testing.T) {
	s, url := newFake(t)
	call(t, url, "POST", "/api/v3/groups?_uid=1", token, map[string]any{"name": "big"})
	for i := range 30 {
		uid := s.AddUser(fmt.Sprintf("user%02d", i))
		call(t, url, "PUT", fmt.Sprintf("/api/v3/groups/big/membership/%d?_uid=1", uid), token, nil)
	}
	seen := map[string]int{}
	for _, after := range []int{0, 20, 40} {
		a := call(t, url, "GET", fmt.Sprintf("/api/v3/groups/big/members?_uid=1&after=%d", after), token, nil)
		for _, u := range a.env.Response["users"].([]any) {
			seen[u.(map[string]any)["username"].(string)]++
		}
	}
	if len(seen) != 31 {
		t.Errorf("pages hold %d distinct users, want 31", len(seen))
	}
	repeated := 0
	for _, n := range seen {
		repeated += n - 1
	}
	if repeated == 0 {
		t.Error("no user repeated across pages; NodeBB's paging repeats the one after the owner")
	}
}

func TestStartServesAndCloses(t *testing.T) {
	s := NewServer(token)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("a second Start succeeded")
	}
	url := s.URL()
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("URL = %q", url)
	}
	if a := call(t, url, "GET", "/api/v3/ping", "", nil); a.status != 200 || a.env.Response["pong"] != true {
		t.Errorf("ping: %d %s", a.status, a.body)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.URL() != "" {
		t.Error("URL after Close")
	}
	if _, err := http.Get(url + "/api/v3/ping"); err == nil {
		t.Error("still serving after Close")
	}
}

func TestConcurrentRequests(t *testing.T) {
	s, url := newFake(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("g%d", i)
			call(t, url, "POST", "/api/v3/groups?_uid=1", token, map[string]any{"name": name})
			uid := s.AddUser("u" + name)
			call(t, url, "PUT", fmt.Sprintf("/api/v3/groups/%s/membership/%d?_uid=1", name, uid), token, nil)
			call(t, url, "POST", "/api/v3/categories?_uid=1", token, map[string]any{"name": "c" + name})
		})
	}
	wg.Wait()
	a := call(t, url, "GET", "/api/v3/categories?_uid=1", token, nil)
	if n := len(a.env.Response["categories"].([]any)); n != 9 { // and the world category
		t.Errorf("%d categories listed, want 8 and the world category", n)
	}
}

// TestOwnershipNeedsReAuth pins NodeBB's re-authentication gate on PUT
// /api/v3/groups/{slug}/ownership/{uid} (routes/write/groups.js, groupsReAuth =
// middleware.requireAPIReAuth): a request by token, or by a session that has
// not logged in again within two minutes, is a 401, whatever the group and
// the account; after a forced re-login (the refused request asks for one) the
// route checks ownership and membership. Measured on NodeBB 4.15.1.
func TestOwnershipNeedsReAuth(t *testing.T) {
	_, url := newFake(t)
	admin := "?_uid=1"
	created := call(t, url, "POST", "/api/v3/users"+admin, token, map[string]any{"username": "owner", "password": "a long test password"})
	uid, _ := created.env.Response["uid"].(float64)
	if created.status != 200 || uid == 0 {
		t.Fatalf("create user: %d %s", created.status, created.body)
	}
	if a := call(t, url, "PUT", "/api/v3/categories/0/privileges/group:create"+admin, token, map[string]any{"member": fmt.Sprint(uid)}); a.status != 200 {
		t.Fatalf("group:create: %d %s", a.status, a.body)
	}
	asUser := fmt.Sprintf("?_uid=%d", int64(uid))
	if a := call(t, url, "POST", "/api/v3/groups"+asUser, token, map[string]any{"name": "usermade"}); a.status != 200 {
		t.Fatalf("create group: %d %s", a.status, a.body)
	}
	grant := "/api/v3/groups/usermade/ownership/1"

	type reply struct {
		Status        int
		Code, Message string
	}
	got := map[string]reply{}
	a := call(t, url, "PUT", grant+asUser, token, nil)
	got["by token"] = reply{a.status, a.env.Status.Code, a.env.Status.Message}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	session := func(method, path string, body any) reply {
		t.Helper()
		cfg, err := c.Get(url + "/api/config")
		if err != nil {
			t.Fatal(err)
		}
		var conf struct {
			CSRF string `json:"csrf_token"`
		}
		_ = json.NewDecoder(cfg.Body).Decode(&conf)
		_ = cfg.Body.Close()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, url+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-csrf-token", conf.CSRF)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var env struct {
			Status struct{ Code, Message string }
		}
		_ = json.NewDecoder(resp.Body).Decode(&env)
		return reply{resp.StatusCode, env.Status.Code, env.Status.Message}
	}
	login := map[string]any{"username": "owner", "password": "a long test password"}
	if r := session("POST", "/api/v3/utilities/login", login); r.Status != 200 {
		t.Fatalf("login: %+v", r)
	}
	got["by a session"] = session("PUT", grant, nil)
	if r := session("POST", "/api/v3/utilities/login", login); r.Status != 200 {
		t.Fatalf("login again: %+v", r)
	}
	got["after logging in again"] = session("PUT", grant, nil)

	want := map[string]reply{
		"by token":               {401, "not-authorised", msgAPI401},
		"by a session":           {401, "not-authorised", msgAPI401},
		"after logging in again": {400, "bad-request", msgNotMember},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PUT %s (-want +got):\n%s", grant, diff)
	}
}

// TestOwnAddressNeedsPassword pins api/users.js isPrivilegedOrSelfAndPasswordMatch:
// an account with a password changes its own e-mail address only by giving
// that password (400 otherwise); an administrator changing it needs none, and
// an account without a password none either. Measured on NodeBB 4.15.1.
func TestOwnAddressNeedsPassword(t *testing.T) {
	_, url := newFake(t)
	admin := "?_uid=1"
	uidOf := func(body map[string]any) string {
		a := call(t, url, "POST", "/api/v3/users"+admin, token, body)
		if a.status != 200 {
			t.Fatalf("create user: %d %s", a.status, a.body)
		}
		return fmt.Sprint(a.env.Response["uid"])
	}
	withPassword := uidOf(map[string]any{"username": "haspw", "password": "a long test password"})
	without := uidOf(map[string]any{"username": "nopw"})

	type reply struct {
		Status  int
		Message string
	}
	got := map[string]reply{}
	for name, c := range map[string]struct {
		uid  string
		body map[string]any
	}{
		"own address without the password": {withPassword, map[string]any{"email": "a@example.org"}},
		"own address, wrong password":      {withPassword, map[string]any{"email": "a@example.org", "password": "wrong"}},
		"own address with the password":    {withPassword, map[string]any{"email": "a@example.org", "password": "a long test password"}},
		"account without a password":       {without, map[string]any{"email": "b@example.org"}},
	} {
		a := call(t, url, "PUT", "/api/v3/users/"+c.uid+"?_uid="+c.uid, token, c.body)
		got[name] = reply{a.status, a.env.Status.Message}
	}
	want := map[string]reply{
		"own address without the password": {400, msgInvalidPassword},
		"own address, wrong password":      {400, msgInvalidPassword},
		"own address with the password":    {200, "OK"},
		"account without a password":       {200, "OK"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PUT /api/v3/users/{uid} as themself (-want +got):\n%s", diff)
	}
}
