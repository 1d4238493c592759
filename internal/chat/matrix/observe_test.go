package matrix

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/opencommons/collab-operator/internal/chat"
)

// TestObserveUnknownAlias: only the server's M_NOT_FOUND means "no such room";
// a bare 404 (a wrong homeserver URL) is an error, so the controller never
// tries to create rooms on something that is not a homeserver.
func TestObserveUnknownAlias(t *testing.T) {
	cases := map[string]struct {
		reply   reply
		wantErr error
	}{
		"alias unknown":    {reply: reply{404, `{"errcode":"M_NOT_FOUND","error":"Room alias not found"}`, nil}},
		"not a homeserver": {reply: reply{404, `<html>404 page not found</html>`, nil}, wantErr: chat.ErrNotFound},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(&script{replies: []reply{tc.reply}})
			defer ts.Close()
			c, err := New(Config{HomeserverURL: ts.URL, ServerName: "example.org", AccessToken: token})
			if err != nil {
				t.Fatal(err)
			}
			room, err := c.Observe(context.Background(), "eng-general")
			if room != nil || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("Observe = %v, %v; want nil, %v", room, err, tc.wantErr)
			}
		})
	}
}
