package forum

import "errors"

// Errors a Client wraps so the controller can pick a condition reason without
// knowing which forum it talks to. Test with errors.Is.
var (
	// ErrUnauthorized: the forum refused the token. Retrying will not help until
	// the Secret is fixed.
	ErrUnauthorized = errors.New("forum refused the credentials")
	// ErrForbidden: the token is valid but its account may not do this, usually
	// because it is not a forum administrator.
	ErrForbidden = errors.New("forum forbade the request")
	// ErrNotFound: the category, group or user does not exist.
	ErrNotFound = errors.New("not found on the forum")
	// ErrUnavailable: the forum could not be reached, or answered 5xx or 429.
	// Retrying later may help.
	ErrUnavailable = errors.New("forum unavailable")
	// ErrConflict: the name is held by something the operator will not adopt,
	// e.g. one of NodeBB's system groups.
	ErrConflict = errors.New("name is held by an object the operator does not own")
	// ErrNoAccount: the user has no forum account (yet; with SSO, one is made at
	// the first login). Errors that wrap it also wrap ErrNotFound.
	ErrNoAccount = errors.New("no forum account")
)
