package matrix

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
)

// reply is one scripted answer of a fake homeserver.
type reply struct {
	status int
	body   string
	header map[string]string
}

// script serves replies in order, repeating the last one, and counts requests.
type script struct {
	replies []reply
	n       atomic.Int64
	auth    atomic.Value // last Authorization header
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(s.n.Add(1)) - 1
	s.auth.Store(r.Header.Get("Authorization"))
	rep := s.replies[min(i, len(s.replies)-1)]
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	_, _ = fmt.Fprint(w, rep.body)
}

const (
	limited = `{"errcode":"M_LIMIT_EXCEEDED","error":"slow down","retry_after_ms":20}`
	whoami  = `{"user_id":"@op:example.org"}`
	token   = "syt_secret_token"
)

func TestTransport(t *testing.T) {
	cases := map[string]struct {
		replies    []reply
		maxRetries int
		timeout    time.Duration
		wantErr    error
		wantCalls  int64
		minElapsed time.Duration
		maxElapsed time.Duration
		// wantRetryAfter is the wait the error must carry for the requeue.
		wantRetryAfter time.Duration
	}{
		"ok": {
			replies: []reply{{200, whoami, nil}}, wantCalls: 1,
		},
		"rate limited then ok: waits retry_after_ms": {
			replies:   []reply{{429, limited, nil}, {429, limited, nil}, {200, whoami, nil}},
			wantCalls: 3, minElapsed: 40 * time.Millisecond,
		},
		"Retry-After header when the body has no wait": {
			replies:   []reply{{429, `{"errcode":"M_LIMIT_EXCEEDED"}`, map[string]string{"Retry-After": "0"}}, {200, whoami, nil}},
			wantCalls: 2, maxElapsed: 500 * time.Millisecond,
		},
		"rate limited for good: bounded retries": {
			replies: []reply{{429, limited, nil}}, maxRetries: 2,
			wantErr: chat.ErrRateLimited, wantCalls: 3, wantRetryAfter: 20 * time.Millisecond,
		},
		"a long wait is not slept: it is returned for a requeue": {
			replies: []reply{{429, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":60000}`, nil}},
			wantErr: chat.ErrRateLimited, wantCalls: 1, maxElapsed: 500 * time.Millisecond, wantRetryAfter: time.Minute,
		},
		"a short wait cut short by the context": {
			replies: []reply{{429, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1500}`, nil}},
			timeout: 50 * time.Millisecond, wantErr: context.DeadlineExceeded, wantCalls: 1, wantRetryAfter: 1500 * time.Millisecond,
		},
		"a 5xx on a read is tried again, then unavailable": {
			replies: []reply{{502, `bad gateway`, nil}}, wantErr: chat.ErrUnavailable, wantCalls: 3,
		},
		"a 5xx on a read rides over a transient fault": {
			replies: []reply{{502, `bad gateway`, nil}, {200, whoami, nil}}, wantCalls: 2,
		},
		"unknown token is unauthorized": {
			replies: []reply{{401, `{"errcode":"M_UNKNOWN_TOKEN","error":"Unknown token"}`, nil}},
			wantErr: chat.ErrUnauthorized, wantCalls: 1,
		},
		"forbidden": {
			replies: []reply{{403, `{"errcode":"M_FORBIDDEN","error":"no"}`, nil}}, wantErr: chat.ErrForbidden, wantCalls: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := &script{replies: tc.replies}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			var count Counter
			c, err := New(Config{HomeserverURL: ts.URL, ServerName: "example.org", AccessToken: token,
				MaxRetries: tc.maxRetries, Observer: count.Observe})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			start := time.Now()
			id, err := c.Whoami(ctx)
			elapsed := time.Since(start)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && id != "@op:example.org") {
				t.Fatalf("Whoami = %q, %v; want %v", id, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("error quotes the token: %v", err)
			}
			if got, _ := chat.RetryAfter(err); got != tc.wantRetryAfter {
				t.Errorf("RetryAfter = %s, want %s", got, tc.wantRetryAfter)
			}
			if got := srv.n.Load(); got != tc.wantCalls || count.Reads() != tc.wantCalls {
				t.Errorf("requests = %d, observed %d; want %d", got, count.Reads(), tc.wantCalls)
			}
			if tc.maxElapsed == 0 {
				tc.maxElapsed = 5 * time.Second
			}
			if elapsed < tc.minElapsed || elapsed > tc.maxElapsed {
				t.Errorf("took %s, want between %s and %s", elapsed, tc.minElapsed, tc.maxElapsed)
			}
			if got := srv.auth.Load(); got != "Bearer "+token {
				t.Errorf("Authorization = %q", got)
			}
		})
	}
}

// TestPostIsNotRetriedOnAFault: a createRoom that met a 502 may have made the room
// behind the proxy, so it is not sent again; the next pass finds the room by its
// alias instead.
func TestPostIsNotRetriedOnAFault(t *testing.T) {
	srv := &script{replies: []reply{{502, `bad gateway`, nil}}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, err := New(Config{HomeserverURL: ts.URL, ServerName: "example.org", AccessToken: token})
	if err != nil {
		t.Fatal(err)
	}
	c.selfID = "@op:example.org"
	if _, err := c.Create(context.Background(), chat.RoomSpec{AliasLocalpart: "x"}); !errors.Is(err, chat.ErrUnavailable) {
		t.Fatalf("Create = %v, want ErrUnavailable", err)
	}
	if got := srv.n.Load(); got != 1 {
		t.Errorf("createRoom sent %d times, want once", got)
	}
}

// TestUnreachable: nothing listening is ErrUnavailable, so the controller can say
// the server is down rather than misconfigured.
func TestUnreachable(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	c, err := New(Config{HomeserverURL: url, ServerName: "example.org", AccessToken: token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Whoami(context.Background()); !errors.Is(err, chat.ErrUnavailable) {
		t.Errorf("Whoami = %v, want ErrUnavailable", err)
	}
}

// TestRelogin: with a password configured, a token the server forgot is replaced
// by logging in again, once; a refused password is ErrUnauthorized and never
// quoted.
func TestRelogin(t *testing.T) {
	var logins, whoamis atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_matrix/client/v3/login", func(w http.ResponseWriter, r *http.Request) {
		n := logins.Add(1)
		_, _ = fmt.Fprintf(w, `{"access_token":"tok%d","user_id":"@op:example.org"}`, n)
	})
	mux.HandleFunc("GET /_matrix/client/v3/account/whoami", func(w http.ResponseWriter, r *http.Request) {
		whoamis.Add(1)
		if r.Header.Get("Authorization") != "Bearer tok2" {
			w.WriteHeader(401)
			_, _ = fmt.Fprint(w, `{"errcode":"M_UNKNOWN_TOKEN"}`)
			return
		}
		_, _ = fmt.Fprint(w, whoami)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	c, err := New(Config{HomeserverURL: ts.URL, ServerName: "example.org", Username: "op", Password: "hunter2-password"})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := c.Whoami(context.Background()); err != nil || id != "@op:example.org" {
		t.Fatalf("Whoami = %q, %v", id, err)
	}
	if logins.Load() != 2 || whoamis.Load() != 2 {
		t.Errorf("logins %d, whoamis %d; want 2 and 2 (login, refused, login again, ok)", logins.Load(), whoamis.Load())
	}
}

func TestLoginRefused(t *testing.T) {
	ts := httptest.NewServer(&script{replies: []reply{{403, `{"errcode":"M_FORBIDDEN","error":"Invalid password"}`, nil}}})
	defer ts.Close()
	c, err := New(Config{HomeserverURL: ts.URL, ServerName: "example.org", Username: "op", Password: "hunter2-password"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Whoami(context.Background())
	if !errors.Is(err, chat.ErrUnauthorized) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Whoami = %v, want ErrUnauthorized without the password", err)
	}
}

func TestNewValidates(t *testing.T) {
	cases := map[string]Config{
		"no URL":          {ServerName: "x", AccessToken: "t"},
		"relative URL":    {HomeserverURL: "matrix.example.org", ServerName: "x", AccessToken: "t"},
		"no server name":  {HomeserverURL: "https://m.example.org", AccessToken: "t"},
		"no credentials":  {HomeserverURL: "https://m.example.org", ServerName: "x"},
		"user, no secret": {HomeserverURL: "https://m.example.org", ServerName: "x", Username: "op"},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := New(cfg); err == nil {
				t.Error("New accepted an unusable config")
			}
		})
	}
}

func TestCounter(t *testing.T) {
	var c Counter
	for _, m := range []string{"GET", "PUT", "POST", "GET", "DELETE"} {
		c.Observe(m, "op", 200, 0)
	}
	if c.Reads() != 2 || c.Writes() != 3 {
		t.Errorf("reads %d writes %d, want 2 and 3", c.Reads(), c.Writes())
	}
}
