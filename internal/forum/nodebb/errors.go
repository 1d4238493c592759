package nodebb

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/opencommons/collab-operator/internal/forum"
)

// Error is a failed request: NodeBB's error, or why no answer came. It unwraps
// to one of package forum's sentinels when one applies. It never holds the
// token, which travels in a header, and never any text of the forum's answer:
// a forum may be run by a tenant (a deployed forum), and errors reach the
// space's conditions and events, which the operator writes.
type Error struct {
	// Op names the operation, as RequestObserver does.
	Op string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Code is NodeBB's status code ("bad-request", "not-authorised", …) when it
	// is one of those NodeBB defines (knownCodes); empty otherwise.
	Code string

	kind  error
	cause error
}

func (e *Error) Error() string {
	var msg string
	switch {
	case errors.Is(e.cause, errRedirect):
		return fmt.Sprintf("nodebb %s: %s (HTTP %d)", e.Op, errRedirect, e.Status)
	case e.Status == 0:
		msg = fmt.Sprintf("nodebb %s", e.Op)
	case e.Code != "":
		msg = fmt.Sprintf("nodebb %s: %d %s", e.Op, e.Status, e.Code)
	default:
		msg = fmt.Sprintf("nodebb %s: HTTP %d", e.Op, e.Status)
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
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

// knownCodes are the status codes of NodeBB's error envelope
// (generateError in src/controllers/helpers.js). An error names the code only
// when it is one of these, so nothing the forum chooses to send reaches a
// message.
var knownCodes = map[string]bool{
	"bad-request": true, "not-authorised": true, "forbidden": true, "not-found": true,
	"upgrade-required": true, "too-many-requests": true, "internal-server-error": true,
	"not-implemented": true, "service-unavailable": true,
}

// errRedirect is the cause of a 3xx answer: the client follows no redirect, so
// a forum cannot send the token, or the operator, to another address.
var errRedirect = errors.New("unexpected redirect")

// responseError builds the Error of a non-2xx answer from its status and, when
// the answer is NodeBB's envelope, its status code if it is a known one. The
// message NodeBB sends (translated, and under the control of whoever runs the
// forum) is never kept.
func responseError(op string, status int, body []byte) *Error {
	e := &Error{Op: op, Status: status, kind: kindOf(status)}
	if status/100 == 3 {
		e.cause = errRedirect
		return e
	}
	var env envelopeJSON
	if json.Unmarshal(body, &env) == nil && knownCodes[env.Status.Code] {
		e.Code = env.Status.Code
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
