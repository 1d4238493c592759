package dendrite

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStartRegisterStop checks what a user of the package relies on: the server
// answers, registers accounts whose tokens work, and is gone after Stop.
func TestStartRegisterStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("dendrite ready at %s in %s", s.URL, time.Since(start))
	defer func() { _ = s.Stop() }()

	userID, token, err := s.RegisterUser(ctx, "admin", "secret-password", true)
	if err != nil {
		t.Fatalf("RegisterUser: %v", err)
	}
	if userID != "@admin:localhost" || token == "" {
		t.Fatalf("RegisterUser = %q, token set %v; want @admin:localhost and a token", userID, token != "")
	}
	if got := whoami(t, s.URL, token); got != userID {
		t.Errorf("whoami with the returned token = %q, want %q", got, userID)
	}
	if _, _, err := s.RegisterUser(ctx, "admin", "other", false); err == nil {
		t.Error("registering a taken localpart succeeded, want an error")
	} else if strings.Contains(err.Error(), "secret-password") || strings.Contains(err.Error(), s.secret) {
		t.Errorf("error leaks a credential: %v", err)
	}

	dir := s.Dir
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := http.Get(s.URL + "/_matrix/client/versions"); err == nil {
		t.Error("server still answers after Stop")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary dir %s still exists after Stop (err %v)", dir, err)
	}
}

// TestPersistentDir checks that a Dir survives a restart with its accounts, as
// `make dev` relies on.
func TestPersistentDir(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	s, err := Start(ctx, Options{Dir: dir, SharedSecret: "s3cret"})
	if err != nil {
		t.Fatalf("first Start: %v", err)
	}
	if _, _, err := s.RegisterUser(ctx, "alice", "pw-alice", false); err != nil {
		t.Fatalf("RegisterUser: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	s, err = Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatalf("second Start: %v", err)
	}
	defer func() { _ = s.Stop() }()
	if s.secret != "s3cret" {
		t.Error("the shared secret of the first start was not kept")
	}
	if _, _, err := s.RegisterUser(ctx, "alice", "pw-alice", false); err == nil {
		t.Error("alice could be registered again after a restart: the accounts were lost")
	}
	if _, err := os.Stat(dir + "/" + keyFile); err != nil {
		t.Errorf("signing key not kept: %v", err)
	}
}

func whoami(t *testing.T, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/_matrix/client/v3/account/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct {
		UserID string `json:"user_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out.UserID
}

// TestStartFailsClearly: a start that cannot work fails fast and says why,
// rather than hanging or leaving a process behind.
func TestStartFailsClearly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := Start(ctx, Options{BinDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "dendrite binary") {
		t.Errorf("Start without binaries = %v, want an error naming the missing binary", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	port := l.Addr().(*net.TCPAddr).Port
	start := time.Now()
	s, err := Start(ctx, Options{Port: port})
	if err == nil {
		_ = s.Stop()
		t.Fatal("Start on a taken port succeeded")
	}
	if !strings.Contains(err.Error(), "address already in use") || time.Since(start) > 10*time.Second {
		t.Errorf("Start on a taken port = %v after %s, want a quick error naming the port", err, time.Since(start))
	}
}

// TestAPortTakenMeanwhileIsChosenAgain: test packages start servers side by
// side, so a port found free can be taken before Dendrite binds it (a CI run
// failed so). Start chooses another, with the same directory.
func TestAPortTakenMeanwhileIsChosenAgain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	taken := l.Addr().(*net.TCPAddr).Port
	choose := freePort
	chosen := 0
	freePort = func() (int, error) {
		if chosen++; chosen == 1 {
			return taken, nil // free when looked at, taken since
		}
		return choose()
	}
	defer func() { freePort = choose }()
	s, err := Start(ctx, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Start after a port was taken meanwhile: %v", err)
	}
	defer func() { _ = s.Stop() }()
	if s.URL == "http://127.0.0.1:"+strconv.Itoa(taken) || chosen != 2 {
		t.Errorf("serving at %s after %d choices, want a second port", s.URL, chosen)
	}
	if _, _, err := s.RegisterUser(ctx, "ada", "secret-password", false); err != nil {
		t.Errorf("the server on its second port does not answer: %v", err)
	}
}
