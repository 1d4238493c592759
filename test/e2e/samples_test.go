package e2e

import (
	"context"
	"testing"
	"time"
)

// TestSamplesBecomeReady is `make dev`: every sample applies and turns Ready.
func TestSamplesBecomeReady(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := env.ApplySamples(ctx, "config/samples"); err != nil {
		t.Fatalf("kubectl apply -k config/samples: %v", err)
	}
	if err := env.WaitReady(ctx, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	env.Report(ctx) // as make dev runs it; its output is for people
}
