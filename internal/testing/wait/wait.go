// Package wait is the one way the project's tests wait for something to become
// true: Eventually polls a condition that says why it does not hold yet, and
// fails the test with the last reason when time runs out.
package wait

import (
	"context"
	"time"
)

// Interval is how often Eventually asks.
const Interval = 200 * time.Millisecond

// Eventually calls cond every Interval until it returns true, or fails the test
// (t.Fatalf) after within, quoting what it waited for and cond's last reason.
// cond runs at least once, even when within is 0.
func Eventually(t TB, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	if why, ok := Until(context.Background(), within, cond); !ok {
		t.Fatalf("waited %s for %s: %s", within, what, why)
	}
}

// EventuallyCtx is Eventually that also gives up when ctx ends.
func EventuallyCtx(ctx context.Context, t TB, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	if why, ok := Until(ctx, within, cond); !ok {
		if ctx.Err() != nil {
			why += " (" + ctx.Err().Error() + ")"
		}
		t.Fatalf("waited %s for %s: %s", within, what, why)
	}
}

// Until polls cond like Eventually, for code that has no test to fail (a
// TestMain, a helper that returns an error): it returns cond's last reason and
// whether it held within the time, or before ctx ended.
func Until(ctx context.Context, within time.Duration, cond func() (bool, string)) (string, bool) {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(Interval)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return why, true
		}
		if !time.Now().Before(deadline) {
			return why, false
		}
		select {
		case <-ctx.Done():
			return why, false
		case <-tick.C:
		}
	}
}

// TB is the part of testing.TB Eventually uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}
