package forum

import "net/http"

// Login is the administrator account of a forum the operator deployed, with which
// a connector mints the operator's API token: the operator generated the account's
// credentials, so no person has to hand it a token.
type Login struct {
	// URL of the forum's API.
	URL      string
	Username string
	Password string
	// Description is stored with the token, for the forum's admins to tell it apart.
	Description string
	// HTTPClient to use; the engine's default when nil.
	HTTPClient *http.Client
}

// Token is a minted API token and the account it acts for.
type Token struct {
	Secret string
	UID    int64
}
