package matrix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
)

const v3 = "/_matrix/client/v3"

// maxBody bounds how much of a response is read; room state of a large room is
// the biggest answer the operator asks for.
const maxBody = 32 << 20

// call is one request to the homeserver.
type call struct {
	method string
	// op names the request for observers and errors; keep it low-cardinality.
	op string
	// path is already escaped, relative to the homeserver URL.
	path string
	// body is JSON-encoded when not nil.
	body any
	// noAuth sends no access token (login, versions).
	noAuth bool
}

// do sends c, retrying within bounds so a pass rides over a short fault without
// holding a worker: a rate-limited request waits as long as the server asks when
// that is at most MaxRetryWait (MaxRetries times); a longer wait is not slept but
// returned in the error (RetryAfter), for the controller to requeue. An idempotent
// request (GET, PUT, DELETE) that met a 5xx or no answer is tried again after a
// short backoff; a POST is not, since createRoom or an invite may have happened.
// It logs in again once when a password login is configured and the server forgot
// the token. out, if not nil, receives the decoded JSON answer.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	body, err := encode(cl.body)
	if err != nil {
		return fmt.Errorf("matrix %s: cannot encode request: %w", cl.op, err)
	}
	r := retrier{c: c, cl: cl}
	for attempt := 0; ; attempt++ {
		resp, e := c.send(ctx, cl, body)
		if e == nil {
			return decode(cl.op, resp, out)
		}
		if err := r.again(ctx, e, resp, attempt); err != nil {
			return err
		}
	}
}

// retrier decides, after each failed attempt of one request, whether to try again.
type retrier struct {
	c        *Client
	cl       call
	faults   int
	relogged bool
}

// again waits when the request is to be tried again and returns nil, or returns
// the error to give up with.
func (r *retrier) again(ctx context.Context, e *Error, resp *response, attempt int) error {
	switch {
	case isRateLimit(e):
		wait := r.c.requestedWait(resp, attempt)
		e.wait = wait
		if attempt >= r.c.maxRetries || wait > r.c.maxWait {
			return e
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("%w (gave up waiting %s: %w)", e, wait, err)
		}
		return nil
	case errors.Is(e, chat.ErrUnavailable) && idempotent(r.cl.method) && r.faults < len(faultBackoff):
		if err := sleep(ctx, faultBackoff[r.faults]); err != nil {
			return e
		}
		r.faults++
		return nil
	case errors.Is(e, chat.ErrUnauthorized) && !r.cl.noAuth && r.c.canLogin() && !r.relogged:
		r.relogged = true
		r.c.forgetToken()
		return nil
	}
	return e
}

// faultBackoff are the waits before retrying an idempotent request that met a
// server fault: short, so a pass that meets a transient 502 still completes.
var faultBackoff = []time.Duration{150 * time.Millisecond, 600 * time.Millisecond}

func idempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete
}

// response is a read answer.
type response struct {
	status int
	body   []byte
	// retryAfter is the wait the server asked for, when hasWait.
	retryAfter time.Duration
	hasWait    bool
}

// send makes one attempt. A non-2xx answer comes back as an *Error with the
// response, so do can read the wait the server asked for.
func (c *Client) send(ctx context.Context, cl call, body []byte) (*response, *Error) {
	req, err := c.request(ctx, cl, body)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, herr := c.http.Do(req)
	if herr != nil {
		c.observe(cl, 0, start)
		return nil, transportError(ctx, cl.op, herr)
	}
	defer func() { _ = resp.Body.Close() }()
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	c.observe(cl, resp.StatusCode, start)
	if rerr != nil {
		return nil, transportError(ctx, cl.op, rerr)
	}
	r := &response{status: resp.StatusCode, body: b}
	if resp.StatusCode/100 == 2 {
		return r, nil
	}
	e, wait, ok := responseError(cl.op, resp.StatusCode, b)
	if !ok {
		wait, ok = retryAfterHeader(resp.Header)
	}
	r.retryAfter, r.hasWait = wait, ok
	return r, e
}

func (c *Client) request(ctx context.Context, cl call, body []byte) (*http.Request, *Error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.base+cl.path, rd)
	if err != nil {
		return nil, &Error{Op: cl.op, cause: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !cl.noAuth {
		token, err := c.accessToken(ctx)
		if err != nil {
			return nil, asError(cl.op, err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

func (c *Client) observe(cl call, status int, start time.Time) {
	if c.observer != nil {
		c.observer(cl.method, cl.op, status, time.Since(start))
	}
}

// requestedWait is how long the server asked to wait, or 1s, 2s, 4s… when it
// did not say.
func (c *Client) requestedWait(r *response, attempt int) time.Duration {
	if r != nil && r.hasWait {
		return r.retryAfter
	}
	return time.Second << attempt
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// transportError: no answer. A cancelled context is the caller's doing, not the
// server's, so only other failures count as ErrUnavailable.
func transportError(ctx context.Context, op string, err error) *Error {
	e := &Error{Op: op, cause: err}
	if ctx.Err() == nil {
		e.kind = chat.ErrUnavailable
	}
	return e
}

func asError(op string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Op: op, cause: err}
}

// retryAfterHeader reads a Retry-After given in seconds (the HTTP-date form is
// not used by homeservers).
func retryAfterHeader(h http.Header) (time.Duration, bool) {
	s, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || s < 0 {
		return 0, false
	}
	return time.Duration(s) * time.Second, true
}

func encode(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

func decode(op string, r *response, out any) error {
	if out == nil || len(r.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		return &Error{Op: op, Status: r.status, cause: fmt.Errorf("cannot decode answer: %w", err)}
	}
	return nil
}
