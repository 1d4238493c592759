package nodebb_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
)

// TestMintTokenFailures: a forum still starting is unavailable; a forum that
// redirects is not followed; nothing the forum says, and not the password,
// reaches the error.
func TestMintTokenFailures(t *testing.T) {
	const password = "s3cret-password-of-the-admin"
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		return "http://" + addr
	}
	serve := func(h http.HandlerFunc) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	var followed bool
	target := serve(func(http.ResponseWriter, *http.Request) { followed = true })
	tests := map[string]struct {
		url  string
		want error
		text string
	}{
		"not listening yet": {url: closed(), want: forum.ErrUnavailable},
		"a redirect": {url: serve(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target+"/api/config", http.StatusFound)
		}), text: "unexpected redirect"},
		"an answer quoting the password": {url: serve(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"status":{"code":"` + password + `","message":"` + password + `"}}`))
		}), want: forum.ErrUnavailable},
		"not NodeBB": {url: serve(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<html>" + password + "</html>"))
		}), text: "cannot decode"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := nodebb.MintToken(context.Background(), forum.Login{URL: tc.url, Username: "admin", Password: password}, nil)
			switch {
			case err == nil:
				t.Fatal("MintToken succeeded")
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("error %v, want %v", err, tc.want)
			case !strings.Contains(err.Error(), tc.text):
				t.Errorf("error %q, want it to say %q", err, tc.text)
			case strings.Contains(err.Error(), password):
				t.Errorf("error quotes the password: %v", err)
			}
		})
	}
	if followed {
		t.Error("MintToken followed a redirect")
	}
}

// TestMintTokenNeedsTheSessionsCSRFToken: the fake refuses a login without the
// session's CSRF token, as NodeBB does, so MintToken is shown to send it.
func TestMintTokenNeedsTheSessionsCSRFToken(t *testing.T) {
	srv := fake.NewServer("master")
	srv.SetupAdmin("collab-admin", "pw-1")
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	resp, err := http.Post(srv.URL()+"/api/v3/utilities/login", "application/json",
		strings.NewReader(`{"username":"collab-admin","password":"pw-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a login without a CSRF token answered %d, want 403", resp.StatusCode)
	}
	tok, err := nodebb.MintToken(context.Background(), forum.Login{URL: srv.URL(), Username: "collab-admin", Password: "pw-1"}, nil)
	if err != nil || tok.Secret == "" || srv.MintedTokens() != 1 {
		t.Fatalf("MintToken = %+v, %v (%d minted)", tok, err, srv.MintedTokens())
	}
}
