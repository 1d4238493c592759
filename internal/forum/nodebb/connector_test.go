package nodebb

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestPingQuotesNothing: the deployed forum is the tenant's; its check follows
// no redirect and puts nothing of the answer into the error.
func TestPingQuotesNothing(t *testing.T) {
	var hits atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(elsewhere.Close)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(redirecting.Close)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "PWNED text")
	}))
	t.Cleanup(failing.Close)
	for url, want := range map[string]string{
		redirecting.URL: "unexpected redirect (HTTP 302)",
		failing.URL:     "HTTP 500",
	} {
		err := (&Connector{}).Ping(context.Background(), url, &http.Client{})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "PWNED") ||
			strings.Contains(err.Error(), elsewhere.URL) {
			t.Errorf("Ping(%s) = %v, want an error saying %q and quoting nothing", url, err, want)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the address redirected to got %d requests, want 0", n)
	}
}
