package dendrite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// Healer restarts a Server that has wedged. Dendrite v0.13.8 on SQLite sometimes
// wedges when a client goes away in the middle of a request (a killed manager, a
// pass cut off by its deadline): a transaction keeps a database locked and every
// write answers 500 "database is locked" until the process restarts. That is the
// test server's fault, not the code under test's, so a long test probes with a
// write of its own and restarts the server after two failed probes in a row.
type Healer struct {
	server *Server
	person *matrixuser.User
	room   string

	probes, failed int
	// Restarts says why each restart happened.
	Restarts []string
}

// NewHealer registers a person of its own on s, with a room to write to.
func NewHealer(ctx context.Context, s *Server) (*Healer, error) {
	id, token, err := s.RegisterUser(ctx, "healer", "password-healer", false)
	if err != nil {
		return nil, fmt.Errorf("cannot register the healer's account: %w", err)
	}
	person := matrixuser.New(s.URL, id, token)
	room, err := person.CreateRoom(ctx, map[string]any{"preset": "private_chat", "name": "healer's probe"})
	if err != nil {
		return nil, fmt.Errorf("cannot create the healer's room: %w", err)
	}
	return &Healer{server: s, person: person, room: room}, nil
}

// Check writes once, as a person would (the topic of the healer's own room),
// and restarts the server after the second failed write in a row. It returns
// what it saw, for the test's log, and an error only when the restart failed.
func (h *Healer) Check(ctx context.Context) (string, error) {
	probeCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	h.probes++
	err := h.person.SetTopic(probeCtx, h.room, fmt.Sprintf("probe %d", h.probes))
	if err == nil {
		h.failed = 0
		return "", nil
	}
	if h.failed++; h.failed < 2 {
		return fmt.Sprintf("Dendrite failed a probe (%d in a row): %v", h.failed, err), nil
	}
	b, _ := os.ReadFile(filepath.Join(h.server.Dir, logFile))
	why := fmt.Sprintf("%d \"database is locked\" in its log so far", strings.Count(string(b), "database is locked"))
	if err := h.server.Restart(ctx); err != nil {
		return "", err
	}
	h.failed = 0
	h.Restarts = append(h.Restarts, why)
	return "Restarted Dendrite, wedged: " + why, nil
}

// Run checks every interval until ctx ends, telling logf what it saw. Run it
// in its own goroutine, and end it before the server is stopped.
func (h *Healer) Run(ctx context.Context, every time.Duration, logf func(format string, args ...any)) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		saw, err := h.Check(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logf("cannot restart Dendrite: %v", err)
		case saw != "":
			logf("%s", saw)
		}
	}
}
