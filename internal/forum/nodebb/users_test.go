package nodebb_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
)

// TestLookupEmail finds an account by its e-mail address, as an administrator, and
// says ErrNotFound for an address no account has.
func TestLookupEmail(t *testing.T) {
	srv := fake.NewServer(fakeToken)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	srv.AddUserWithEmail("wendy.w", "wendy@corp.example")
	c, err := nodebb.New(nodebb.Config{URL: ts.URL, Token: fakeToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if name, err := c.LookupEmail(ctx, "wendy@corp.example"); err != nil || name != "wendy.w" {
		t.Errorf("LookupEmail = %q, %v; want wendy.w", name, err)
	}
	if name, err := c.LookupEmail(ctx, "nobody@corp.example"); !errors.Is(err, forum.ErrNotFound) {
		t.Errorf("LookupEmail of an unknown address = %q, %v; want ErrNotFound", name, err)
	}
}

// TestLookupEmailOnlyConfirmed attacks matching people by e-mail: an account
// whose address the forum has not confirmed (NodeBB before 3.0 indexed every
// address given at registration, a forum upgraded from one keeps them, and SSO
// plugins may write one) claims a colleague's address. LookupEmail must not
// hand that account the colleague's groups: only a confirmed address that is
// the account's own matches.
func TestLookupEmailOnlyConfirmed(t *testing.T) {
	srv := fake.NewServer(fakeToken)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	srv.AddUserWithUnconfirmedEmail("mallory", "wendy@corp.example")
	srv.AddUserWithEmail("victor", "Victor@Corp.example")
	c, err := nodebb.New(nodebb.Config{URL: ts.URL, Token: fakeToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if name, err := c.LookupEmail(ctx, "wendy@corp.example"); !errors.Is(err, forum.ErrNotFound) {
		t.Errorf("LookupEmail of an unconfirmed address = %q, %v; want ErrNotFound", name, err)
	}
	if name, err := c.LookupEmail(ctx, "victor@corp.example"); err != nil || name != "victor" {
		t.Errorf("LookupEmail of a confirmed address in another case = %q, %v; want victor", name, err)
	}
}
