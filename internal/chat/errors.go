package chat

import (
	"errors"
	"fmt"
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

// CheckOwner returns an error wrapping ErrAliasConflict unless the observed room was
// made for owner. A room without an owner marker was not made by the operator,
// which always sets it when creating, so it conflicts too.
func CheckOwner(observed *ObservedRoom, owner string) error {
	if observed.Owner == owner {
		return nil
	}
	holder := fmt.Sprintf("space %q", observed.Owner)
	if observed.Owner == "" {
		holder = "a room the operator did not create"
	}
	return fmt.Errorf("alias %s of room %s belongs to %s, not %q: %w",
		observed.Alias, observed.RoomID, holder, owner, ErrAliasConflict)
}
