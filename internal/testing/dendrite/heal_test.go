package dendrite

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestHealerRestartsAServerThatStopsAnswering stands a halted server in for a
// wedged one: the first failed probe is only reported, the second restarts the
// server on the same port with the same data, and the healer's own token still
// works afterwards.
func TestHealerRestartsAServerThatStopsAnswering(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = s.Stop() }()
	h, err := NewHealer(ctx, s)
	if err != nil {
		t.Fatalf("NewHealer: %v", err)
	}
	if saw, err := h.Check(ctx); saw != "" || err != nil {
		t.Fatalf("Check on a healthy server = %q, %v; want nothing to report", saw, err)
	}

	if err := s.Halt(); err != nil {
		t.Fatalf("Halt: %v", err)
	}
	if saw, err := h.Check(ctx); err != nil || !strings.Contains(saw, "1 in a row") || len(h.Restarts) != 0 {
		t.Fatalf("first failed probe = %q, %v, %d restarts; want it reported, no restart", saw, err, len(h.Restarts))
	}
	if saw, err := h.Check(ctx); err != nil || !strings.HasPrefix(saw, "Restarted Dendrite") || len(h.Restarts) != 1 {
		t.Fatalf("second failed probe = %q, %v, %d restarts; want one restart", saw, err, len(h.Restarts))
	}
	if saw, err := h.Check(ctx); saw != "" || err != nil {
		t.Errorf("Check after the restart = %q, %v; want the server answering the same token", saw, err)
	}
}

// TestRestartNeedsAPersistentDir: a throwaway server keeps JetStream in memory,
// so restarting it would lose its rooms; Restart refuses rather than pretend.
func TestRestartNeedsAPersistentDir(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = s.Stop() }()
	if err := s.Restart(ctx); err == nil || !strings.Contains(err.Error(), "persistent") {
		t.Errorf("Restart of a throwaway server = %v, want a refusal naming the persistent Dir", err)
	}
}
