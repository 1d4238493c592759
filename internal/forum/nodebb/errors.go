package nodebb

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/opencommons/collab-operator/internal/forum"
)

// Error is a failed request: NodeBB's error, or why no answer came. It unwraps
// to one of package forum's sentinels when one applies. It never holds the
// token, which travels in a header.
type Error struct {
	// Op names the operation, as RequestObserver does.
	Op string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Code is NodeBB's status code ("bad-request", "not-authorised", …) and
	// Message its message, translated to the forum's language; do not match on
	// it.
	Code, Message string

	kind  error
	cause error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.cause != nil {
		if msg != "" {
			msg += ": "
		}
		msg += e.cause.Error()
	}
	switch {
	case e.Status == 0:
		return fmt.Sprintf("nodebb %s: %s", e.Op, msg)
	case e.Code != "" && msg != "":
		return fmt.Sprintf("nodebb %s: %d %s: %s", e.Op, e.Status, e.Code, msg)
	case msg != "":
		return fmt.Sprintf("nodebb %s: HTTP %d: %s", e.Op, e.Status, msg)
	default:
		return fmt.Sprintf("nodebb %s: HTTP %d", e.Op, e.Status)
	}
}

// Unwrap exposes the sentinel (forum.ErrNotFound, …) and the cause.
func (e *Error) Unwrap() []error {
	var out []error
	for _, err := range []error{e.kind, e.cause} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// maxMessage bounds the part of an unexpected answer quoted in an error.
const maxMessage = 200

// responseError builds the Error of a non-2xx answer. NodeBB answers /api/v3
// errors with its envelope, /api/self with a JSON string, and unknown read
// routes with plain text.
func responseError(op string, status int, body []byte) *Error {
	e := &Error{Op: op, Status: status, kind: kindOf(status)}
	var env envelopeJSON
	var s string
	switch {
	case json.Unmarshal(body, &env) == nil && env.Status.Code != "":
		e.Code, e.Message = env.Status.Code, env.Status.Message
	case json.Unmarshal(body, &s) == nil:
		e.Message = s
	case utf8.Valid(body) && !strings.HasPrefix(strings.TrimSpace(string(body)), "<"):
		e.Message = strings.TrimSpace(string(body))
	}
	if len(e.Message) > maxMessage {
		e.Message = e.Message[:maxMessage] + "…"
	}
	return e
}

// kindOf maps a status to the sentinel the controller picks a reason from.
// NodeBB also answers 401 for an unknown uid in a membership call; the group
// code corrects that case.
func kindOf(status int) error {
	switch {
	case status == http.StatusUnauthorized:
		return forum.ErrUnauthorized
	case status == http.StatusForbidden:
		return forum.ErrForbidden
	case status == http.StatusNotFound:
		return forum.ErrNotFound
	case status == http.StatusConflict:
		return forum.ErrConflict
	case status == http.StatusTooManyRequests, status >= 500:
		return forum.ErrUnavailable
	}
	return nil
}

// flexInt decodes a number NodeBB may send as a JSON number or a numeric string
// (its database returns strings, and not every field goes through parseInt).
// Anything else, such as the URL ids of remote categories, decodes as 0.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case float64:
		*n = flexInt(x)
	case string:
		var i int64
		if _, err := fmt.Sscan(strings.TrimSpace(x), &i); err == nil {
			*n = flexInt(i)
		} else {
			*n = 0
		}
	case bool:
		if x {
			*n = 1
		} else {
			*n = 0
		}
	default:
		*n = 0
	}
	return nil
}
