package controllers

import (
	"errors"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/forum"
)

// phaseError is how a phase of a pass failed, classified once (classify): the
// reason the phase's condition shows, whether retrying can help, and whether it is
// a passing fault of a server, which a converged space rides over. A pass is
// terminal only when every one of its errors is (passOutcome), so one backend's
// conflict never stops another backend's retries.
type phaseError struct {
	// condition is the condition of the phase that failed.
	condition string
	reason    string
	// terminal: retrying cannot help until the spec or the environment changes.
	terminal bool
	// transient: the server or the network failed; retrying soon likely helps.
	transient bool
	// retryAfter is how long the server asked to wait (rate limits).
	retryAfter time.Duration
	err        error
}

func (e *phaseError) Error() string { return e.err.Error() }
func (e *phaseError) Unwrap() error { return e.err }

// classify turns a phase's error into a phaseError. An error already classified
// keeps its classification; reason names the failure when nothing more specific
// is known.
func classify(condition, reason string, err error) *phaseError {
	var pe *phaseError
	if errors.As(err, &pe) {
		return pe
	}
	e := &phaseError{condition: condition, reason: reason, err: err,
		terminal: errors.Is(err, reconcile.TerminalError(nil))}
	switch {
	case errors.Is(err, chat.ErrAliasConflict):
		e.reason, e.terminal = collabv1.ReasonAliasConflict, true
	case errors.As(err, new(*forumConflictError)):
		e.reason, e.terminal = collabv1.ReasonForumConflict, true
	case errors.Is(err, forum.ErrConflict):
		e.reason, e.terminal = collabv1.ReasonNameConflict, true
	case connect.IsNamespaceForbidden(err):
		e.reason = collabv1.ReasonCredentialsNamespaceForbidden
	case errors.Is(err, chat.ErrNoCredentials):
		e.reason = collabv1.ReasonCredentialsInvalid
	case errors.Is(err, chat.ErrRateLimited):
		e.reason, e.transient = collabv1.ReasonRateLimited, true
		e.retryAfter, _ = chat.RetryAfter(err)
	case errors.Is(err, chat.ErrUnavailable):
		e.reason, e.transient = collabv1.ReasonChatServerUnavailable, true
	case errors.Is(err, forum.ErrUnavailable):
		e.reason, e.transient = collabv1.ReasonForumUnavailable, true
	case errors.Is(err, chat.ErrUnauthorized), errors.Is(err, forum.ErrUnauthorized), errors.Is(err, forum.ErrForbidden):
		e.reason = collabv1.ReasonCredentialsRejected
	}
	return e
}

// message says what failed and what to do, for the phase's condition.
func (e *phaseError) message() string {
	switch e.reason {
	case collabv1.ReasonChatServerUnavailable:
		return "The chat server cannot be reached; retrying with backoff: " + e.err.Error()
	case collabv1.ReasonForumUnavailable:
		return "The forum cannot be reached; retrying with backoff: " + e.err.Error()
	case collabv1.ReasonRateLimited:
		return fmt.Sprintf("The server asks to slow down; trying again in %s", e.retryAfter.Round(time.Second))
	case collabv1.ReasonCredentialsRejected:
		return "The server refused the backend's credentials; fix its Secret: " + e.err.Error()
	case collabv1.ReasonAliasConflict:
		return e.err.Error() + "; the operator adopts only rooms it provably made for this space: " +
			"ask the chat server's admin to free the alias, or rename the space or the room"
	}
	return e.err.Error()
}

// passOutcome merges a pass's phase errors into what Reconcile returns: nothing
// when there are none; a terminal error only when every error is terminal; a
// requeue after the server's wait when every other error is a rate limit that
// said how long, so a busy server costs no worker a sleep and no backoff; the
// errors joined otherwise, retried with backoff.
func passOutcome(errs []*phaseError) (time.Duration, error) {
	if len(errs) == 0 {
		return 0, nil
	}
	var all, retry []error
	var wait time.Duration
	onlyWaits := true
	for _, e := range errs {
		all = append(all, e)
		if e.terminal {
			continue
		}
		retry = append(retry, e)
		if e.retryAfter == 0 {
			onlyWaits = false
		}
		wait = max(wait, e.retryAfter)
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
