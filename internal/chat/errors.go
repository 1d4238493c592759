package chat

import (
	"errors"
	"fmt"
	"time"
)

// Errors a Client wraps so the controller can pick a condition reason without
// knowing which chat server it talks to. Test with errors.Is.
var (
	// ErrUnauthorized: the credentials were refused (unknown or expired token, wrong
	// password). Retrying will not help until the Secret is fixed.
	ErrUnauthorized = errors.New("chat server refused the credentials")
	// ErrForbidden: the account may not do this, e.g. it is not in the room or lacks
	// the power level.
	ErrForbidden = errors.New("chat server forbade the request")
	// ErrNotFound: the room or alias does not exist.
	ErrNotFound = errors.New("not found on the chat server")
	// ErrUnavailable: the server could not be reached or answered with a 5xx.
	// Retrying later may help.
	ErrUnavailable = errors.New("chat server unavailable")
	// ErrRateLimited: the server kept asking to slow down after the bounded retries.
	ErrRateLimited = errors.New("chat server rate limit exceeded")
	// ErrAliasConflict: the alias belongs to a room that another space (or someone
	// else) made. The operator will not adopt it.
	ErrAliasConflict = errors.New("alias is held by a room this space does not own")
)

// RetryAfter returns how long the server asked to wait before a rate-limited
// request is tried again, when err carries that.
func RetryAfter(err error) (time.Duration, bool) {
	var w interface{ RetryAfter() time.Duration }
	if errors.As(err, &w) && w.RetryAfter() > 0 {
		return w.RetryAfter(), true
	}
	return 0, false
}

// CheckOwner returns an error wrapping ErrAliasConflict unless the observed room is
// provably the operator's, made for owner: the operator's account (operator)
// created it and itself sent the owner marker naming owner. Names are hints, never
// proof: anyone can create a room under a free alias and write a marker in it, but
// only the room's creator can make the creation event, and only power level 100
// (the operator alone) can send the marker in a room the operator made.
//
// The error names the alias and the room, never the space a marker claims, so one
// tenant never learns another's namespace from a conflict.
func CheckOwner(observed *ObservedRoom, owner, operator string) error {
	var why string
	switch {
	case observed.Creator != operator:
		why = "a room the operator did not create"
	case observed.OwnerSender != operator:
		why = "a room whose owner marker the operator did not write"
	case observed.Owner != owner:
		why = "a room that belongs to another space"
	default:
		return nil
	}
	return fmt.Errorf("alias %s is taken by %s (%s): %w", observed.Alias, why, observed.RoomID, ErrAliasConflict)
}
