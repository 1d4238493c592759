package nodebb

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
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
// forum's, so only other failures count as ErrUnavailable. The cause is
// NoAnswer's: Go's own errors can quote what the peer sent (a malformed status
// line), and a forum may be a tenant's.
func transportError(ctx context.Context, op string, err error) *Error {
	e := &Error{Op: op, cause: NoAnswer(err)}
	if ctx.Err() == nil {
		e.kind = forum.ErrUnavailable
	}
	return e
}

// NoAnswer describes why a request got no (complete) answer in fixed words,
// never with text from the peer or the URL: the connection was refused, timed
// out, the name did not resolve, TLS failed, or the answer was unreadable. It
// wraps context.Canceled and context.DeadlineExceeded.
func NoAnswer(err error) error {
	var dns *net.DNSError
	var ne net.Error
	var tlsRecord tls.RecordHeaderError
	var cert *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("no answer: %w", context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer: %w", context.DeadlineExceeded)
	case errors.As(err, &dns):
		return errors.New("no answer: the forum's host name does not resolve")
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("no answer: connection refused")
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("no answer: timed out")
	case errors.As(err, &tlsRecord), errors.As(err, &cert), errors.As(err, &unknownAuthority), errors.As(err, &hostname):
		return errors.New("no answer: the TLS handshake failed")
	}
	return errors.New("no readable answer")
}
