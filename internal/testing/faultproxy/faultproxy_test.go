package faultproxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
)

// upstream is a server that answers 200 {"path": ...} and counts its requests.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path, "user_id": "@op:localhost"})
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func start(t *testing.T, target string, seed uint64, p Policy, enabled bool) *Proxy {
	t.Helper()
	px, err := Start(target, seed, p, enabled)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = px.Close() })
	if !strings.HasPrefix(px.URL, "http://127.0.0.1:") {
		t.Fatalf("proxy listens on %s, want 127.0.0.1", px.URL)
	}
	return px
}

type answer struct {
	status     int
	retryAfter string
	body       map[string]any
}

func get(t *testing.T, url string) answer {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	_ = json.Unmarshal(b, &a.body)
	return a
}

func TestForwardsWhenDisabledOrNoFault(t *testing.T) {
	srv, hits := upstream(t)
	for name, tc := range map[string]struct {
		policy  Policy
		enabled bool
	}{
		"disabled":           {policy: Policy{RateLimit: 1}, enabled: false},
		"enabled, no faults": {policy: Policy{}, enabled: true},
	} {
		t.Run(name, func(t *testing.T) {
			hits.Store(0)
			px := start(t, srv.URL, 1, tc.policy, tc.enabled)
			for range 20 {
				a := get(t, px.URL+"/_matrix/client/v3/createRoom")
				if a.status != http.StatusOK || a.body["path"] != "/_matrix/client/v3/createRoom" {
					t.Fatalf("got %d %v, want the server's 200", a.status, a.body)
				}
			}
			want := Stats{Requests: 20, Forwarded: 20}
			if diff := cmp.Diff(want, px.Stats()); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			if hits.Load() != 20 {
				t.Errorf("the server got %d requests, want 20", hits.Load())
			}
		})
	}
}

func TestRateLimitAnswersInTheServersPlace(t *testing.T) {
	srv, hits := upstream(t)
	px := start(t, srv.URL, 7, Policy{RateLimit: 1, RetryAfterMin: 200 * time.Millisecond, RetryAfterMax: 1500 * time.Millisecond}, true)
	for range 200 {
		a := get(t, px.URL+"/_matrix/client/v3/rooms/!r:localhost/state")
		if a.status != http.StatusTooManyRequests || a.body["errcode"] != "M_LIMIT_EXCEEDED" {
			t.Fatalf("got %d %v, want 429 M_LIMIT_EXCEEDED", a.status, a.body)
		}
		ms, ok := a.body["retry_after_ms"].(float64)
		if !ok || ms < 200 || ms > 1500 {
			t.Fatalf("retry_after_ms %v, want within [200, 1500]", a.body["retry_after_ms"])
		}
		if want := strconv.Itoa((int(ms) + 999) / 1000); a.retryAfter != want {
			t.Fatalf("Retry-After %q for %v ms, want %q", a.retryAfter, ms, want)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the server got %d requests, want none: a fault is not forwarded", hits.Load())
	}
	if diff := cmp.Diff(Stats{Requests: 200, RateLimited: 200}, px.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestLongRetryAfter(t *testing.T) {
	srv, _ := upstream(t)
	px := start(t, srv.URL, 7, Policy{RateLimit: 1, RetryAfterMin: time.Second, LongRetryAfter: 20 * time.Second, LongShare: 1}, true)
	a := get(t, px.URL+"/_matrix/client/v3/joined_rooms")
	if a.status != http.StatusTooManyRequests || a.body["retry_after_ms"] != float64(20000) || a.retryAfter != "20" {
		t.Fatalf("got %d %v Retry-After %q, want 429 retry_after_ms 20000 Retry-After 20", a.status, a.body, a.retryAfter)
	}
	if s := px.Stats(); s.LongRateLimited != 1 || s.RateLimited != 1 {
		t.Errorf("stats %+v, want one long 429", s)
	}
}

func TestBadGateway(t *testing.T) {
	srv, hits := upstream(t)
	px := start(t, srv.URL, 3, Policy{Unavailable: 1}, true)
	for range 10 {
		if a := get(t, px.URL+"/_matrix/client/v3/createRoom"); a.status != http.StatusBadGateway {
			t.Fatalf("got %d, want 502", a.status)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the server got %d requests, want none", hits.Load())
	}
	if diff := cmp.Diff(Stats{Requests: 10, Unavailable: 10}, px.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestSyncIsSparedUnlessAsked(t *testing.T) {
	srv, _ := upstream(t)
	px := start(t, srv.URL, 3, Policy{Unavailable: 1}, true)
	for _, path := range []string{"/_matrix/client/v3/sync", "/_matrix/client/r0/sync"} {
		if a := get(t, px.URL+path+"?timeout=0"); a.status != http.StatusOK {
			t.Errorf("%s: got %d, want the long poll forwarded", path, a.status)
		}
	}
	if a := get(t, px.URL+"/_matrix/client/v3/joined_rooms"); a.status != http.StatusBadGateway {
		t.Errorf("joined_rooms: got %d, want 502", a.status)
	}
	if err := px.SetPolicy(Policy{Unavailable: 1, Sync: true}); err != nil {
		t.Fatal(err)
	}
	if a := get(t, px.URL+"/_matrix/client/v3/sync"); a.status != http.StatusBadGateway {
		t.Errorf("sync with Policy.Sync: got %d, want 502", a.status)
	}
	if s := px.Stats(); s.Sync != 3 || s.Forwarded != 2 || s.Unavailable != 2 {
		t.Errorf("stats %+v, want 3 syncs, 2 forwarded, 2 faulted", s)
	}
}

func TestSwitchAtRunTime(t *testing.T) {
	srv, _ := upstream(t)
	px := start(t, srv.URL, 3, Policy{Unavailable: 1}, false)
	status := func() int { return get(t, px.URL+"/_matrix/client/v3/joined_rooms").status }
	if s := status(); s != http.StatusOK {
		t.Fatalf("disabled: got %d", s)
	}
	px.Enable(true)
	if s := status(); s != http.StatusBadGateway || !px.Enabled() {
		t.Fatalf("enabled: got %d", s)
	}
	if err := px.SetPolicy(Policy{RateLimit: 1}); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != http.StatusTooManyRequests {
		t.Fatalf("after SetPolicy: got %d", s)
	}
	px.Enable(false)
	if s := status(); s != http.StatusOK {
		t.Fatalf("disabled again: got %d", s)
	}
	px.Reset()
	if diff := cmp.Diff(Stats{}, px.Stats()); diff != "" {
		t.Errorf("after Reset (-want +got):\n%s", diff)
	}
}

func TestMatchLimitsTheFaults(t *testing.T) {
	srv, _ := upstream(t)
	px := start(t, srv.URL, 3, Policy{Unavailable: 1, Match: func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/createRoom")
	}}, true)
	if a := get(t, px.URL+"/_matrix/client/v3/createRoom"); a.status != http.StatusBadGateway {
		t.Errorf("createRoom: got %d, want 502", a.status)
	}
	if a := get(t, px.URL+"/_matrix/client/v3/joined_rooms"); a.status != http.StatusOK {
		t.Errorf("joined_rooms: got %d, want 200", a.status)
	}
}

// TestProbabilitiesAndSeed: the shares follow the policy, and one seed gives one
// sequence of answers.
func TestProbabilitiesAndSeed(t *testing.T) {
	srv, _ := upstream(t)
	policy := Policy{RateLimit: 0.3, RetryAfterMin: 200 * time.Millisecond, RetryAfterMax: 1500 * time.Millisecond,
		LongRetryAfter: 20 * time.Second, LongShare: 0.1, Unavailable: 0.1}
	run := func(seed uint64) ([]int, Stats) {
		px := start(t, srv.URL, seed, policy, true)
		var seq []int
		for range 2000 {
			seq = append(seq, get(t, px.URL+"/_matrix/client/v3/joined_rooms").status)
		}
		return seq, px.Stats()
	}
	a, stats := run(42)
	b, _ := run(42)
	c, _ := run(43)
	if !cmp.Equal(a, b) {
		t.Error("the same seed gave two sequences")
	}
	if cmp.Equal(a, c) {
		t.Error("two seeds gave the same sequence")
	}
	share := func(n int64) float64 { return float64(n) / float64(stats.Requests) }
	if s := share(stats.RateLimited); s < 0.26 || s > 0.34 {
		t.Errorf("429 share %.3f, want about 0.3 (%v)", s, stats)
	}
	if s := share(stats.Unavailable); s < 0.07 || s > 0.13 {
		t.Errorf("502 share %.3f, want about 0.1 (%v)", s, stats)
	}
	if s := float64(stats.LongRateLimited) / float64(stats.RateLimited); s < 0.05 || s > 0.15 {
		t.Errorf("long share of 429s %.3f, want about 0.1 (%v)", s, stats)
	}
	if stats.Faulted()+stats.Forwarded != stats.Requests {
		t.Errorf("faulted + forwarded != requests: %v", stats)
	}
}

func TestUpstreamDown(t *testing.T) {
	srv, _ := upstream(t)
	url := srv.URL
	srv.Close()
	px := start(t, url, 1, Policy{}, false)
	if a := get(t, px.URL+"/_matrix/client/v3/joined_rooms"); a.status != http.StatusBadGateway {
		t.Errorf("got %d, want 502", a.status)
	}
	if s := px.Stats(); s.UpstreamErrors != 1 || s.Forwarded != 1 {
		t.Errorf("stats %+v, want one forwarded request that met an upstream error", s)
	}
}

func TestInvalidPolicy(t *testing.T) {
	for name, p := range map[string]Policy{
		"over one":       {RateLimit: 0.7, Unavailable: 0.4},
		"negative":       {Unavailable: -0.1},
		"long share":     {LongShare: 2},
		"negative delay": {RetryAfterMin: -time.Second},
	} {
		if _, err := Start("http://127.0.0.1:1", 1, p, true); err == nil {
			t.Errorf("%s: Start accepted %+v", name, p)
		}
	}
	if _, err := Start("127.0.0.1:1", 1, Policy{}, true); err == nil {
		t.Error("Start accepted a target without a scheme")
	}
}

// TestTheOperatorsClientReadsTheFaults: the operator's Matrix client takes the
// proxy's answers as a homeserver's: a long wait comes back as a rate limit with
// the wait, to requeue; a 502 as the server being unavailable; short waits are
// ridden over.
func TestTheOperatorsClientReadsTheFaults(t *testing.T) {
	srv, _ := upstream(t)
	px := start(t, srv.URL, 5, Policy{RateLimit: 1, LongRetryAfter: 20 * time.Second, LongShare: 1}, true)
	c, err := matrix.New(matrix.Config{HomeserverURL: px.URL, ServerName: "localhost", AccessToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.JoinedRooms(ctx)
	if wait, ok := chat.RetryAfter(err); !errors.Is(err, chat.ErrRateLimited) || !ok || wait != 20*time.Second {
		t.Errorf("long 429: got %v (wait %s), want ErrRateLimited with 20s", err, wait)
	}

	if err := px.SetPolicy(Policy{Unavailable: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.JoinedRooms(ctx); !errors.Is(err, chat.ErrUnavailable) {
		t.Errorf("502: got %v, want ErrUnavailable", err)
	}

	// Every other request limited for a moment: the client sleeps and succeeds.
	if err := px.SetPolicy(Policy{RateLimit: 0.5, RetryAfterMin: 10 * time.Millisecond, RetryAfterMax: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	px.Reset()
	for range 20 {
		if _, err := c.JoinedRooms(ctx); err != nil && !errors.Is(err, chat.ErrRateLimited) {
			t.Fatalf("short 429s: %v", err)
		}
	}
	if s := px.Stats(); s.RateLimited == 0 || s.Forwarded < 15 {
		t.Errorf("short 429s: %v, want most calls through after a retry", s)
	}
}
