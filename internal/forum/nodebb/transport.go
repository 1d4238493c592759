package nodebb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/opencommons/collab-operator/internal/forum"
)

// maxBody bounds how much of an answer is read; a category list of a large
// shared forum is the biggest answer the client asks for.
const maxBody = 16 << 20

// call is one request to the forum.
type call struct {
	method string
	// op names the request for observers and errors; keep it low-cardinality.
	op string
	// path is already escaped, relative to the forum URL.
	path string
	// query, if any; the client adds _uid.
	query url.Values
	// body is JSON-encoded when not nil.
	body any
	// envelope: the answer is /api/v3's {"status", "response"}; the client
	// decodes "response" into out.
	envelope bool
	// noAuth sends no token (NodeInfo).
	noAuth bool
}

// envelopeJSON is the wrapper of every /api/v3 answer.
type envelopeJSON struct {
	Status struct {
		// Code is read; the message never is (see Error).
		Code string `json:"code"`
	} `json:"status"`
	Response json.RawMessage `json:"response"`
}

// do sends the call once and decodes the answer into out (when not nil).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	req, err := c.request(ctx, cl)
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.observe(cl, 0, start)
		return transportError(ctx, cl.op, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	c.observe(cl, resp.StatusCode, start)
	if err != nil {
		return transportError(ctx, cl.op, err)
	}
	if resp.StatusCode/100 != 2 {
		return responseError(cl.op, resp.StatusCode, b)
	}
	errDecode := &Error{Op: cl.op, Status: resp.StatusCode, cause: errUndecodable}
	if out == nil {
		return nil
	}
	if cl.envelope {
		var env envelopeJSON
		if json.Unmarshal(b, &env) != nil {
			return errDecode
		}
		b = env.Response
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if json.Unmarshal(b, out) != nil {
		return errDecode
	}
	return nil
}

// errUndecodable: the answer is not the JSON expected. The decoder's own error is
// not kept, as it quotes the answer.
var errUndecodable = errors.New("cannot decode answer: not the JSON NodeBB sends")

func (c *Client) request(ctx context.Context, cl call) (*http.Request, error) {
	var body io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, &Error{Op: cl.op, cause: fmt.Errorf("cannot encode request: %w", err)}
		}
		body = bytes.NewReader(b)
	}
	q := url.Values{}
	for k, v := range cl.query {
		q[k] = v
	}
	if !cl.noAuth {
		q.Set("_uid", strconv.FormatInt(c.uid, 10))
	}
	u := c.base + cl.path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return nil, &Error{Op: cl.op, cause: err}
	}
	// NodeBB answers JSON to clients that do not accept HTML, 404s included.
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !cl.noAuth {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

func (c *Client) observe(cl call, status int, start time.Time) {
	if c.observer != nil {
		c.observer(cl.method, cl.op, status, time.Since(start))
	}
}

// transportError: no answer. A cancelled context is the caller's doing, not the
// forum's, so only other failures count as ErrUnavailable. The URL in a
// *url.Error holds no secret: the token travels in a header.
func transportError(ctx context.Context, op string, err error) *Error {
	e := &Error{Op: op, cause: err}
	if ctx.Err() == nil {
		e.kind = forum.ErrUnavailable
	}
	return e
}
