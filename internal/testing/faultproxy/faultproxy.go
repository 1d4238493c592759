// Package faultproxy is a fault-injecting HTTP reverse proxy for drills: it sits on
// 127.0.0.1 in front of a real server (Dendrite) and, per request, by seeded
// probabilities, answers in the server's place the way a busy or broken server or
// gateway would — 429 M_LIMIT_EXCEEDED with retry_after_ms and a Retry-After
// header, or 502 Bad Gateway — without forwarding the request. Everything else is
// forwarded. It counts what it did, and its faults can be switched on and off, or
// changed, while it runs.
//
// The long-poll /sync is never faulted unless the policy asks (Policy.Sync): a
// drill about the operator's passes should not also starve its change stream.
package faultproxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Policy says which faults the proxy injects. Probabilities are per request, in
// [0, 1]; RateLimit + Unavailable must not exceed 1.
type Policy struct {
	// RateLimit is the probability of answering 429 M_LIMIT_EXCEEDED.
	RateLimit float64
	// RetryAfterMin and RetryAfterMax bound the retry_after_ms of a 429, drawn
	// uniformly; RetryAfterMin when RetryAfterMax is not larger.
	RetryAfterMin, RetryAfterMax time.Duration
	// LongRetryAfter, with probability LongShare (of the 429s), is asked for
	// instead: a server telling the client to go away for a while.
	LongRetryAfter time.Duration
	LongShare      float64
	// Unavailable is the probability of answering 502 Bad Gateway, as a gateway in
	// front of a restarting server does.
	Unavailable float64
	// Sync lets the long-poll /sync be faulted too.
	Sync bool
	// Match, when set, limits the faults to the requests it accepts (e.g. only
	// createRoom); the others are always forwarded.
	Match func(*http.Request) bool
}

func (p Policy) validate() error {
	for _, v := range []float64{p.RateLimit, p.Unavailable, p.LongShare} {
		if v < 0 || v > 1 || math.IsNaN(v) {
			return fmt.Errorf("faultproxy: probability %v out of [0, 1]", v)
		}
	}
	if p.RateLimit+p.Unavailable > 1 {
		return errors.New("faultproxy: RateLimit + Unavailable exceed 1")
	}
	if p.RetryAfterMin < 0 || p.RetryAfterMax < 0 || p.LongRetryAfter < 0 {
		return errors.New("faultproxy: negative retry_after")
	}
	return nil
}

// Stats counts what the proxy did since it started (or since Reset).
type Stats struct {
	// Requests is every request received.
	Requests int64
	// Forwarded were passed to the server (whatever it answered).
	Forwarded int64
	// RateLimited were answered 429 by the proxy, LongRateLimited of them with
	// LongRetryAfter.
	RateLimited, LongRateLimited int64
	// Unavailable were answered 502 by the proxy.
	Unavailable int64
	// UpstreamErrors were forwarded but the server could not be reached (answered
	// 502 too, by the reverse proxy).
	UpstreamErrors int64
	// Sync counts the /sync long polls received (forwarded unless Policy.Sync).
	Sync int64
}

// Faulted is how many requests the proxy answered in the server's place.
func (s Stats) Faulted() int64 { return s.RateLimited + s.Unavailable }

func (s Stats) String() string {
	return fmt.Sprintf("%d requests: %d forwarded, %d answered 429 (%d with a long wait), %d answered 502, %d upstream errors, %d /sync",
		s.Requests, s.Forwarded, s.RateLimited, s.LongRateLimited, s.Unavailable, s.UpstreamErrors, s.Sync)
}

// Proxy is a running fault-injecting reverse proxy.
type Proxy struct {
	// URL is where clients should send their requests, e.g. "http://127.0.0.1:41234".
	URL string

	target   *url.URL
	listener net.Listener
	server   *http.Server
	reverse  *httputil.ReverseProxy

	enabled atomic.Bool
	mu      sync.Mutex // guards policy and rng
	policy  Policy
	rng     *rand.Rand

	requests, forwarded, rateLimited, longRateLimited, unavailable, upstreamErrors, syncs atomic.Int64
}

// Start listens on a free port of 127.0.0.1 and proxies to target (the server's
// base URL). The seed makes the sequence of decisions reproducible (the order in
// which concurrent requests draw from it is not). Faults start disabled when
// enabled is false; Enable turns them on.
func Start(target string, seed uint64, policy Policy, enabled bool) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target must be an absolute http(s) URL, got %q", target)
	}
	if err := policy.validate(); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: cannot listen: %w", err)
	}
	p := &Proxy{
		URL:      "http://" + l.Addr().String(),
		target:   u,
		listener: l,
		policy:   policy,
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	p.enabled.Store(enabled)
	p.reverse = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = u.Host
		},
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		},
		// Long polls stream as soon as the server answers.
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client went away: nobody to answer
			}
			p.upstreamErrors.Add(1)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.server = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.server.Serve(l) }()
	return p, nil
}

// Close stops the proxy; requests in flight are cut off.
func (p *Proxy) Close() error { return p.server.Close() }

// Enable turns the faults on or off; off, every request is forwarded.
func (p *Proxy) Enable(on bool) { p.enabled.Store(on) }

// Enabled reports whether faults are on.
func (p *Proxy) Enabled() bool { return p.enabled.Load() }

// SetPolicy replaces the faults injected from the next request on.
func (p *Proxy) SetPolicy(policy Policy) error {
	if err := policy.validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.policy = policy
	return nil
}

// Stats returns the counters.
func (p *Proxy) Stats() Stats {
	return Stats{
		Requests:        p.requests.Load(),
		Forwarded:       p.forwarded.Load(),
		RateLimited:     p.rateLimited.Load(),
		LongRateLimited: p.longRateLimited.Load(),
		Unavailable:     p.unavailable.Load(),
		UpstreamErrors:  p.upstreamErrors.Load(),
		Sync:            p.syncs.Load(),
	}
}

// Reset sets the counters to zero.
func (p *Proxy) Reset() {
	for _, c := range []*atomic.Int64{&p.requests, &p.forwarded, &p.rateLimited, &p.longRateLimited,
		&p.unavailable, &p.upstreamErrors, &p.syncs} {
		c.Store(0)
	}
}

// IsSync reports whether a request is a client-server /sync long poll.
func IsSync(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/_matrix/client/") && strings.HasSuffix(r.URL.Path, "/sync")
}

// fault is what the proxy decided for one request.
type fault int

const (
	forward fault = iota
	rateLimit
	badGateway
)

// decide draws the fate of one request.
func (p *Proxy) decide(r *http.Request, isSync bool) (fault, time.Duration, bool) {
	if !p.enabled.Load() {
		return forward, 0, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pol := p.policy
	if (isSync && !pol.Sync) || (pol.Match != nil && !pol.Match(r)) {
		return forward, 0, false
	}
	x := p.rng.Float64()
	switch {
	case x < pol.RateLimit:
		if pol.LongShare > 0 && p.rng.Float64() < pol.LongShare {
			return rateLimit, pol.LongRetryAfter, true
		}
		wait := pol.RetryAfterMin
		if span := pol.RetryAfterMax - pol.RetryAfterMin; span > 0 {
			wait += time.Duration(p.rng.Int64N(int64(span) + 1))
		}
		return rateLimit, wait, false
	case x < pol.RateLimit+pol.Unavailable:
		return badGateway, 0, false
	}
	return forward, 0, false
}

// ServeHTTP forwards the request or answers it with a fault.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	isSync := IsSync(r)
	if isSync {
		p.syncs.Add(1)
	}
	f, wait, long := p.decide(r, isSync)
	switch f {
	case rateLimit:
		p.rateLimited.Add(1)
		if long {
			p.longRateLimited.Add(1)
		}
		drain(r)
		ms := wait.Milliseconds()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", strconv.FormatInt((ms+999)/1000, 10))
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests (faultproxy)", "retry_after_ms": ms,
		})
	case badGateway:
		p.unavailable.Add(1)
		drain(r)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>\n")
	default:
		p.forwarded.Add(1)
		p.reverse.ServeHTTP(w, r)
	}
}

// drain reads what is left of a request body the proxy answers itself, so the
// client's connection stays reusable.
func drain(r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
}
