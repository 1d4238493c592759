package nodebb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/opencommons/collab-operator/internal/forum"
)

const secret = "s3cr3t-token-value"

// seen is one request as a scripted server received it.
type seen struct {
	method, path, query, auth, accept, contentType, body string
}

// scripted answers each request with the reply for its "METHOD path" (the last
// one listed when it repeats) and records what it received.
type scripted struct {
	mu      sync.Mutex
	replies map[string][]reply
	got     []seen
}

type reply struct {
	status int
	body   string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"),
		r.Header.Get("Accept"), r.Header.Get("Content-Type"), string(b)})
	key := r.Method + " " + r.URL.Path
	rs := s.replies[key]
	if len(rs) == 0 {
		w.WriteHeader(http.StatusTeapot)
		_, _ = fmt.Fprintf(w, "no reply scripted for %s", key)
		return
	}
	rep := rs[0]
	if len(rs) > 1 {
		s.replies[key] = rs[1:]
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func envelope(status int, code, message string, response any) reply {
	b, _ := json.Marshal(map[string]any{"status": map[string]string{"code": code, "message": message}, "response": response})
	return reply{status, string(b)}
}

func okEnv(response any) reply { return envelope(200, "ok", "OK", response) }

func newScripted(t *testing.T, replies map[string][]reply) (*Client, *scripted, *[]string) {
	t.Helper()
	s := &scripted{replies: replies}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	var ops []string
	var mu sync.Mutex
	c, err := New(Config{URL: ts.URL + "/forum/", Token: secret, UID: 7, Observer: func(method, op string, status int, _ time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		ops = append(ops, fmt.Sprintf("%s %s %d", method, op, status))
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c, s, &ops
}

func TestRequests(t *testing.T) {
	c, s, ops := newScripted(t, map[string][]reply{
		"GET /forum/nodeinfo/2.0":                                      {{200, `{"software":{"name":"NodeBB","version":"4.2.0"}}`}},
		"PUT /forum/api/v3/categories/3/privileges/groups:topics:read": {okEnv(map[string]any{})},
		"GET /forum/api/self":                                          {{200, `{"uid":"7","username":"operator","isAdmin":true}`}},
	})
	ctx := context.Background()
	if v, err := c.Version(ctx); err != nil || v != "4.2.0" {
		t.Fatalf("Version = %q, %v", v, err)
	}
	if err := c.UpdateCategory(ctx, 3, []forum.CategoryAction{forum.Grant{Group: "eng members", Privilege: forum.PrivTopicsRead}}); err != nil {
		t.Fatal(err)
	}
	self, err := c.Ping(ctx)
	if err != nil || self != (forum.Self{UID: 7, Username: "operator", Admin: true}) {
		t.Fatalf("Ping = %+v, %v", self, err)
	}
	want := []seen{
		{method: "GET", path: "/forum/nodeinfo/2.0", accept: "application/json"},
		{method: "PUT", path: "/forum/api/v3/categories/3/privileges/groups:topics:read", query: "_uid=7",
			auth: "Bearer " + secret, accept: "application/json", contentType: "application/json",
			body: `{"member":"eng members"}`},
		{method: "GET", path: "/forum/api/self", query: "_uid=7", auth: "Bearer " + secret, accept: "application/json"},
	}
	if diff := cmp.Diff(want, s.got, cmp.AllowUnexported(seen{})); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	wantOps := []string{"GET nodeinfo 200", "PUT grantPrivilege 200", "GET self 200"}
	if diff := cmp.Diff(wantOps, *ops); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	cases := map[string]struct {
		reply    reply
		kind     error
		contains string
		absent   string
	}{
		"401 envelope: the code, not the message": {
			reply: envelope(401, "not-authorised", "A valid login session was not found.", map[string]any{}),
			kind:  forum.ErrUnauthorized, contains: "401 not-authorised", absent: "login session",
		},
		"401 from /api/self is a JSON string, not quoted": {
			reply: reply{401, `"not-authorized"`}, kind: forum.ErrUnauthorized, contains: "HTTP 401", absent: "not-authorized",
		},
		"403": {
			reply: envelope(403, "forbidden", "You do not have enough privileges for this action.", nil),
			kind:  forum.ErrForbidden, contains: "403 forbidden", absent: "privileges",
		},
		"404 as plain text is not quoted": {reply: reply{404, "Not found"}, kind: forum.ErrNotFound, contains: "HTTP 404", absent: "Not found"},
		"429":                             {reply: envelope(429, "too-many-requests", "slow down", nil), kind: forum.ErrUnavailable, absent: "slow"},
		"500 with an HTML page is not quoted": {
			reply: reply{500, "<!DOCTYPE html><html>boom</html>"}, kind: forum.ErrUnavailable, absent: "html",
		},
		"500 with text is not quoted": {
			reply: reply{500, "PWNED text"}, kind: forum.ErrUnavailable, contains: "HTTP 500", absent: "PWNED",
		},
		"503": {reply: envelope(503, "service-unavailable", "maintenance", nil), kind: forum.ErrUnavailable, absent: "maintenance"},
		"400 carries NodeBB's code, not its message, and no sentinel": {
			reply:    envelope(400, "bad-request", "Required parameters were missing from this API call: name", map[string]any{"params": []string{"name"}}),
			contains: "400 bad-request", absent: "Required",
		},
		"a code NodeBB does not define is not quoted": {
			reply:    envelope(400, "PWNED-see-http://evil.example", "PWNED", nil),
			contains: "HTTP 400", absent: "PWNED",
		},
		"a long message is not quoted": {
			reply: reply{502, strings.Repeat("x", 1000)}, kind: forum.ErrUnavailable, absent: "x",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, _, _ := newScripted(t, map[string][]reply{"GET /forum/api/self": {tc.reply}})
			_, err := c.Ping(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			for _, k := range []error{forum.ErrUnauthorized, forum.ErrForbidden, forum.ErrNotFound, forum.ErrUnavailable, forum.ErrConflict} {
				if want := errors.Is(k, tc.kind); errors.Is(err, k) != want {
					t.Errorf("errors.Is(%v, %v) = %v", err, k, !want)
				}
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != "self" || e.Status != tc.reply.status {
				t.Errorf("error %#v is not an *Error for op self, status %d", err, tc.reply.status)
			}
			if tc.contains != "" && !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
			if tc.absent != "" && strings.Contains(err.Error(), tc.absent) {
				t.Errorf("error %q contains %q", err, tc.absent)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q quotes the token", err)
			}
		})
	}
}

// TestNoRedirects: a forum that answers with a redirect sends the client
// nowhere, for reads and writes, with the default HTTP client and a given one;
// the error names the status, not the address.
func TestNoRedirects(t *testing.T) {
	var hits atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, `{"uid":1,"username":"admin","isAdmin":true}`)
	}))
	t.Cleanup(elsewhere.Close)
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+r.URL.RequestURI(), code)
		}))
		t.Cleanup(redirecting.Close)
		for name, hc := range map[string]*http.Client{"default client": nil, "given client": {}} {
			c, err := New(Config{URL: redirecting.URL, Token: secret, HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Ping(context.Background())
			want := fmt.Sprintf("unexpected redirect (HTTP %d)", code)
			if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), elsewhere.URL) ||
				strings.Contains(err.Error(), strings.TrimPrefix(elsewhere.URL, "http://")) {
				t.Errorf("%s, %d: Ping = %v, want an error saying %q without the address", name, code, err, want)
			}
			if err := c.DeleteCategory(context.Background(), 3); err == nil {
				t.Errorf("%s, %d: DeleteCategory followed a redirect", name, code)
			}
			if _, err := c.CreateGroup(context.Background(), forum.GroupSpec{Name: "g"}); err == nil {
				t.Errorf("%s, %d: CreateGroup followed a redirect", name, code)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the address redirected to got %d requests, want 0", n)
	}
}

func TestProof(t *testing.T) {
	c1, _ := New(Config{URL: "http://forum", Token: "token-one"})
	c1again, _ := New(Config{URL: "http://other-forum", Token: "token-one"})
	c2, _ := New(Config{URL: "http://forum", Token: "token-two"})
	p := c1.Proof("subject")
	if len(p) != 32 || strings.Trim(p, "0123456789abcdef") != "" {
		t.Errorf("Proof = %q, want 32 hex digits", p)
	}
	if c1again.Proof("subject") != p {
		t.Error("the same token gives another proof")
	}
	if c2.Proof("subject") == p || c1.Proof("subject2") == p {
		t.Error("another token or subject gives the same proof")
	}
	if strings.Contains(p, "token") {
		t.Error("the proof shows the token")
	}
}

func TestGuestAnswerIsUnauthorized(t *testing.T) {
	c, _, _ := newScripted(t, map[string][]reply{"GET /forum/api/self": {{200, `{"uid":0}`}}})
	if _, err := c.Ping(context.Background()); !errors.Is(err, forum.ErrUnauthorized) {
		t.Errorf("Ping answered as a guest: %v, want ErrUnauthorized", err)
	}
}

func TestTransportFailures(t *testing.T) {
	t.Run("connection refused is unavailable", func(t *testing.T) {
		c, err := New(Config{URL: "http://127.0.0.1:1", Token: secret})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Ping(context.Background())
		if !errors.Is(err, forum.ErrUnavailable) || strings.Contains(err.Error(), secret) {
			t.Errorf("Ping = %v, want ErrUnavailable without the token", err)
		}
	})
	t.Run("a cancelled context is the caller's, not the forum's", func(t *testing.T) {
		c, _, _ := newScripted(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Ping(ctx)
		if !errors.Is(err, context.Canceled) || errors.Is(err, forum.ErrUnavailable) {
			t.Errorf("Ping = %v, want context.Canceled and not ErrUnavailable", err)
		}
	})
	t.Run("an answer that is not JSON", func(t *testing.T) {
		c, _, _ := newScripted(t, map[string][]reply{"GET /forum/api/v3/categories": {{200, "<html>"}}})
		_, err := c.ObserveCategory(context.Background(), 0, 0, "x")
		var e *Error
		if !errors.As(err, &e) || e.Op != "listCategories" || !strings.Contains(err.Error(), "cannot decode answer") {
			t.Errorf("ObserveCategory = %v, want a decoding error of listCategories", err)
		}
	})
}

func TestNew(t *testing.T) {
	for name, cfg := range map[string]Config{
		"relative URL": {URL: "/forum", Token: "t"},
		"ftp URL":      {URL: "ftp://forum", Token: "t"},
		"no token":     {URL: "http://forum"},
		"negative uid": {URL: "http://forum", Token: "t", UID: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		} else if strings.Contains(err.Error(), "t\"") {
			t.Errorf("%s: error quotes the token: %v", name, err)
		}
	}
	c, err := New(Config{URL: "https://forum.example.org/", Token: "t"})
	if err != nil || c.uid != 1 || c.base != "https://forum.example.org" {
		t.Errorf("New = %+v, %v; want uid 1 and no trailing slash", c, err)
	}
}

func TestUpdateCategoryBatchesFields(t *testing.T) {
	cat := map[string]any{"cid": 5, "name": "n", "parentCid": 0, "disabled": 0}
	c, s, _ := newScripted(t, map[string][]reply{
		"PUT /forum/api/v3/categories/5":                           {okEnv(cat), okEnv(cat)},
		"DELETE /forum/api/v3/categories/5/privileges/groups:find": {okEnv(nil)},
		"PUT /forum/api/v3/categories/5/privileges/groups:read":    {envelope(400, "bad-request", "no-user-or-group", nil)},
	})
	err := c.UpdateCategory(context.Background(), 5, []forum.CategoryAction{
		forum.Revoke{Group: "guests", Privilege: forum.PrivFind},
		forum.SetName{Name: "RFCs"}, forum.SetDescription{Description: "d"},
		forum.SetParent{ParentID: 2}, forum.SetDisabled{Disabled: false},
		forum.Grant{Group: "ghost", Privilege: forum.PrivRead},
		forum.SetDisabled{Disabled: true},
	})
	if err == nil || !strings.Contains(err.Error(), `cannot grant read to group "ghost" in category 5`) {
		t.Errorf("UpdateCategory = %v, want the failed grant reported", err)
	}
	var calls []string
	for _, g := range s.got {
		calls = append(calls, g.method+" "+strings.TrimPrefix(g.path, "/forum/api/v3/categories/5")+" "+g.body)
	}
	want := []string{
		`DELETE /privileges/groups:find {"member":"guests"}`,
		`PUT  {"description":"d","disabled":0,"name":"RFCs","parentCid":2}`,
		`PUT /privileges/groups:read {"member":"ghost"}`,
		`PUT  {"disabled":1}`,
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestUpdateCategoryStopsWhenTheCategoryIsGone(t *testing.T) {
	c, s, _ := newScripted(t, map[string][]reply{"PUT /forum/api/v3/categories/5": {okEnv(nil)}})
	err := c.UpdateCategory(context.Background(), 5, []forum.CategoryAction{
		forum.SetName{Name: "x"}, forum.Grant{Group: "g", Privilege: "read"},
	})
	if !errors.Is(err, forum.ErrNotFound) || len(s.got) != 1 {
		t.Errorf("UpdateCategory = %v after %d requests, want ErrNotFound after 1", err, len(s.got))
	}
}

func TestJoinTellsAnUnknownUIDFromABadToken(t *testing.T) {
	invalidUID := envelope(401, "not-authorised", "Invalid User ID", nil)
	cases := map[string]struct {
		self reply
		kind error
	}{
		"the token works: the user is gone": {reply{200, `{"uid":1,"username":"admin","isAdmin":true}`}, forum.ErrNotFound},
		"the token is bad":                  {reply{401, `"not-authorized"`}, forum.ErrUnauthorized},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, _, _ := newScripted(t, map[string][]reply{
				"GET /forum/api/user/username/al ice":      {{200, `{"uid":42,"username":"al ice"}`}},
				"PUT /forum/api/v3/groups/g/membership/42": {invalidUID},
				"GET /forum/api/self":                      {tc.self},
			})
			err := c.UpdateGroup(context.Background(), "g", []forum.GroupAction{forum.AddMember{Username: "al ice"}})
			if !errors.Is(err, tc.kind) {
				t.Errorf("UpdateGroup = %v, want %v", err, tc.kind)
			}
			other := forum.ErrUnauthorized
			if errors.Is(tc.kind, forum.ErrUnauthorized) {
				other = forum.ErrNotFound
			}
			if errors.Is(err, other) {
				t.Errorf("UpdateGroup = %v is also %v", err, other)
			}
		})
	}
}

func TestFlexInt(t *testing.T) {
	var got struct{ A, B, C, D, E flexInt }
	if err := json.Unmarshal([]byte(`{"A":5,"B":"12","C":"https://remote.example/c/1","D":true,"E":null}`), &got); err != nil {
		t.Fatal(err)
	}
	if got.A != 5 || got.B != 12 || got.C != 0 || got.D != 1 || got.E != 0 {
		t.Errorf("flexInt decoded %+v", got)
	}
}

// TestVersionMustLookLikeOne: the version goes into a status, so anything else
// the forum sends there is refused, not quoted.
func TestVersionMustLookLikeOne(t *testing.T) {
	c, _, _ := newScripted(t, map[string][]reply{
		"GET /forum/nodeinfo/2.0": {{200, `{"software":{"name":"NodeBB","version":"PWNED: see http://evil.example"}}`}},
	})
	v, err := c.Version(context.Background())
	if err == nil || v != "" || strings.Contains(err.Error(), "PWNED") {
		t.Errorf("Version = %q, %v; want an error that does not quote the answer", v, err)
	}
}

// TestGarbageIsNotQuoted: Go's transport quotes a malformed status line in its
// error; the client's error does not.
func TestGarbageIsNotQuoted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(conn, "PWNED see http://evil.example\r\n\r\n")
			_ = conn.Close()
		}
	}()
	c, err := New(Config{URL: "http://" + ln.Addr().String(), Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Ping(context.Background())
	if !errors.Is(err, forum.ErrUnavailable) || strings.Contains(err.Error(), "PWNED") || strings.Contains(err.Error(), "evil") {
		t.Errorf("Ping = %v, want ErrUnavailable without the peer's text", err)
	}
	if want := NoAnswer(context.Canceled); !errors.Is(want, context.Canceled) {
		t.Errorf("NoAnswer(context.Canceled) = %v, want it wrapped", want)
	}
}
