// Package outcome is what a reconcile pass makes of its failures: each error
// classified once into the reason its condition shows, whether retrying helps
// and whether it is a server's passing fault (Classify), and the pass's errors
// merged into what Reconcile returns (Merge). Every controller classifies
// through it, so a reason means the same on a space and on a backend.
package outcome

import (
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/forum"
)

// Error is how a phase of a pass failed, classified once (classify): the
// reason the phase's condition shows, whether retrying can help, and whether it is
// a passing fault of a server, which a converged space rides over. A pass is
// terminal only when every one of its errors is (passOutcome), so one backend's
// conflict never stops another backend's retries.
type Error struct {
	// Condition is the Condition of the phase that failed.
	Condition string
	Reason    string
	// Terminal: retrying cannot help until the spec or the environment changes.
	Terminal bool
	// Transient: the server or the network failed; retrying soon likely helps.
	Transient bool
	// RetryAfter is how long the server asked to wait (rate limits).
	RetryAfter time.Duration
	err        error
}

func (e *Error) Error() string { return e.err.Error() }
func (e *Error) Unwrap() error { return e.err }

// Classify turns a phase's error into a phaseError. An error already classified
// keeps its classification; reason names the failure when nothing more specific
// is known.
func Classify(condition, reason string, err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	e := &Error{Condition: condition, Reason: reason, err: err,
		Terminal: errors.Is(err, reconcile.TerminalError(nil))}
	switch {
	case errors.Is(err, chat.ErrAliasConflict):
		e.Reason, e.Terminal = collabv1.ReasonAliasConflict, true
	case errors.As(err, new(*ForumConflictError)):
		e.Reason, e.Terminal = collabv1.ReasonForumConflict, true
	case errors.Is(err, forum.ErrConflict):
		e.Reason, e.Terminal = collabv1.ReasonNameConflict, true
	case connect.IsNamespaceForbidden(err):
		e.Reason = collabv1.ReasonCredentialsNamespaceForbidden
	case errors.Is(err, chat.ErrNoCredentials):
		e.Reason = collabv1.ReasonCredentialsInvalid
	case errors.Is(err, chat.ErrRateLimited):
		e.Reason, e.Transient = collabv1.ReasonRateLimited, true
		e.RetryAfter, _ = chat.RetryAfter(err)
	case errors.Is(err, chat.ErrUnavailable):
		e.Reason, e.Transient = collabv1.ReasonChatServerUnavailable, true
	case errors.Is(err, forum.ErrUnavailable):
		e.Reason, e.Transient = collabv1.ReasonForumUnavailable, true
	case errors.Is(err, chat.ErrUnauthorized), errors.Is(err, forum.ErrUnauthorized), errors.Is(err, forum.ErrForbidden):
		e.Reason = collabv1.ReasonCredentialsRejected
	}
	return e
}

// Message says what failed and what to do, for the phase's condition.
func (e *Error) Message() string {
	switch e.Reason {
	case collabv1.ReasonChatServerUnavailable:
		return "The chat server cannot be reached; retrying with backoff: " + e.err.Error()
	case collabv1.ReasonForumUnavailable:
		return "The forum cannot be reached; retrying with backoff: " + e.err.Error()
	case collabv1.ReasonRateLimited:
		return fmt.Sprintf("The server asks to slow down; trying again in %s", e.RetryAfter.Round(time.Second))
	case collabv1.ReasonCredentialsRejected:
		return "The server refused the backend's credentials; fix its Secret: " + e.err.Error()
	case collabv1.ReasonAliasConflict:
		return e.err.Error() + "; the operator adopts only rooms it provably made for this space: " +
			"ask the chat server's admin to free the alias, or rename the space or the room"
	}
	return e.err.Error()
}

// Merge merges a pass's phase errors into what Reconcile returns: nothing
// when there are none; a terminal error only when every error is terminal; a
// requeue after the server's wait when every other error is a rate limit that
// said how long, so a busy server costs no worker a sleep and no backoff; the
// errors joined otherwise, retried with backoff.
func Merge(errs []*Error) (time.Duration, error) {
	if len(errs) == 0 {
		return 0, nil
	}
	var all, retry []error
	var wait time.Duration
	onlyWaits := true
	for _, e := range errs {
		all = append(all, e)
		if e.Terminal {
			continue
		}
		retry = append(retry, e)
		if e.RetryAfter == 0 {
			onlyWaits = false
		}
		wait = max(wait, e.RetryAfter)
	}
	switch {
	case len(retry) == 0:
		return 0, reconcile.TerminalError(errors.Join(all...))
	case onlyWaits:
		return wait, nil
	}
	return 0, retryable{all: all, retry: retry}
}

// retryable is a pass's errors when some can be retried. Its message names them
// all, but only the retryable ones unwrap: controller-runtime stops retrying as
// soon as any error in the chain is terminal, which would let one backend's
// conflict stop another backend's retries.
type retryable struct{ all, retry []error }

func (e retryable) Error() string   { return errors.Join(e.all...).Error() }
func (e retryable) Unwrap() []error { return e.retry }

// ForumConflictError is something the space's status or names point at in a
// shared forum that the operator cannot show is the space's own.
type ForumConflictError struct{ Msg string }

func (e *ForumConflictError) Error() string { return e.Msg }

// ConflictRetryDelay is how soon a pass that lost a write race runs again.
const ConflictRetryDelay = time.Second

// Soonest merges two results, keeping the soonest non-zero requeue.
func Soonest(a, b ctrl.Result) ctrl.Result {
	switch {
	case a.RequeueAfter == 0:
		return b
	case b.RequeueAfter == 0:
		return a
	case b.RequeueAfter < a.RequeueAfter:
		return b
	}
	return a
}

// RequeueOnConflict turns a write conflict into a quiet retry: the object changed
// under us, which is normal and no user's concern.
func RequeueOnConflict(err error) (ctrl.Result, error) {
	if apierrors.IsConflict(err) {
		return ctrl.Result{RequeueAfter: ConflictRetryDelay}, nil
	}
	return ctrl.Result{}, err
}

// TerminalIfConflict marks an alias conflict terminal: retrying cannot free an
// alias someone else holds.
func TerminalIfConflict(err error) error {
	if errors.Is(err, chat.ErrAliasConflict) {
		return reconcile.TerminalError(err)
	}
	return err
}
