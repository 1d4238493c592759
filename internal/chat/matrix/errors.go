package matrix

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
)

// Error is a failed request: the server's Matrix error, or why no answer came.
// It unwraps to one of chat's sentinel errors when one applies. It never holds a
// credential: tokens travel in a header and passwords in a body, neither quoted.
type Error struct {
	// Op names the operation, as RequestObserver does.
	Op string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Code and Message are the Matrix errcode and error.
	Code, Message string

	kind  error
	cause error
	// wait is how long a rate-limited request should wait before it is tried
	// again.
	wait time.Duration
}

// RetryAfter is how long the server asked to wait before trying again; 0 when
// the error is not about the rate limit.
func (e *Error) RetryAfter() time.Duration { return e.wait }

func (e *Error) Error() string {
	switch {
	case e.Status == 0:
		return fmt.Sprintf("matrix %s: %v", e.Op, e.cause)
	case e.Code != "":
		return fmt.Sprintf("matrix %s: %d %s: %s", e.Op, e.Status, e.Code, e.Message)
	default:
		return fmt.Sprintf("matrix %s: HTTP %d", e.Op, e.Status)
	}
}

// Unwrap exposes the sentinel (chat.ErrUnauthorized, …) and the transport cause.
func (e *Error) Unwrap() []error {
	var out []error
	for _, err := range []error{e.kind, e.cause} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// hasCode reports whether err is a Matrix error with that errcode.
func hasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// matrixError is the JSON body of a Matrix error.
type matrixError struct {
	Code         string `json:"errcode"`
	Message      string `json:"error"`
	RetryAfterMS *int64 `json:"retry_after_ms"`
}

// responseError builds the Error of a non-2xx answer, with the wait the body
// asks for, if it does.
func responseError(op string, status int, body []byte) (*Error, time.Duration, bool) {
	var m matrixError
	_ = json.Unmarshal(body, &m)
	e := &Error{Op: op, Status: status, Code: m.Code, Message: m.Message}
	e.kind = kindOf(op, status, m.Code)
	if m.RetryAfterMS == nil || *m.RetryAfterMS < 0 {
		return e, 0, false
	}
	return e, time.Duration(*m.RetryAfterMS) * time.Millisecond, true
}

// kindOf maps an answer to the sentinel the controller picks a reason from.
func kindOf(op string, status int, code string) error {
	switch {
	case code == "M_UNKNOWN_TOKEN", code == "M_MISSING_TOKEN", status == http.StatusUnauthorized:
		return chat.ErrUnauthorized
	case op == opLogin && (code == "M_FORBIDDEN" || code == "M_USER_DEACTIVATED"):
		return chat.ErrUnauthorized
	case code == "M_LIMIT_EXCEEDED", status == http.StatusTooManyRequests:
		return chat.ErrRateLimited
	case code == "M_FORBIDDEN", status == http.StatusForbidden:
		return chat.ErrForbidden
	case code == "M_NOT_FOUND", status == http.StatusNotFound:
		return chat.ErrNotFound
	case status >= 500:
		return chat.ErrUnavailable
	}
	return nil
}

func isRateLimit(e *Error) bool {
	return e.Code == "M_LIMIT_EXCEEDED" || e.Status == http.StatusTooManyRequests
}
