package matrix

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencommons/collab-operator/internal/chat"
)

// TestCredentials: a password logs in, a wrong password or an unknown token is
// reported as ErrUnauthorized, and no error quotes the secret.
func TestCredentials(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := homeserver(t)
	cases := map[string]struct {
		cfg    Config
		wantID string
		err    error
		secret string
	}{
		"password":       {cfg: Config{Username: "alice", Password: "password-alice"}, wantID: "@alice:localhost"},
		"full user id":   {cfg: Config{Username: "@alice:localhost", Password: "password-alice"}, wantID: "@alice:localhost"},
		"wrong password": {cfg: Config{Username: "alice", Password: "not-her-password"}, err: chat.ErrUnauthorized, secret: "not-her-password"},
		"unknown token":  {cfg: Config{AccessToken: "syt_bogus_token_value"}, err: chat.ErrUnauthorized, secret: "syt_bogus_token_value"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.cfg.HomeserverURL, tc.cfg.ServerName = s.URL, s.ServerName
			c, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			id, err := c.Whoami(ctx)
			if !errors.Is(err, tc.err) || id != tc.wantID {
				t.Fatalf("Whoami = %q, %v; want %q, %v", id, err, tc.wantID, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error quotes the credential: %v", err)
			}
		})
	}
}

// TestVersions: the server reports the client-server versions for the
// ChatBackend's status.
func TestVersions(t *testing.T) {
	t.Parallel()
	c := operatorClient(t, nil)
	v, err := c.Versions(testContext(t))
	if err != nil || len(v) == 0 {
		t.Fatalf("Versions = %v, %v", v, err)
	}
}

// TestClientsShareAccount: two clients logging in to the same account (two
// controllers, or an old and a new operator pod during a rollout) must not log
// each other out. Dendrite v0.13.8 does exactly that when the login names no
// device, so each client logs in on a device of its own.
func TestClientsShareAccount(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	a, b := operatorClient(t, nil), operatorClient(t, nil)
	if _, err := a.Whoami(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Whoami(ctx); err != nil {
		t.Fatal(err)
	}
	a.user, a.pass = "", "" // no second chance: a's first token must still work
	if _, err := a.Whoami(ctx); err != nil {
		t.Errorf("the first client was logged out by the second: %v", err)
	}
}
