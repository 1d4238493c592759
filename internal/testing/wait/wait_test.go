package wait

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeT records a failure instead of ending the test.
type fakeT struct{ failed string }

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
}

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	ft := &fakeT{}
	Eventually(ft, 10*time.Second, "the third call", func() (bool, string) {
		calls++
		return calls == 3, fmt.Sprintf("call %d", calls)
	})
	if ft.failed != "" || calls != 3 {
		t.Fatalf("failed %q after %d calls, want success after 3", ft.failed, calls)
	}
}

func TestEventuallyFailsWithTheLastReason(t *testing.T) {
	calls := 0
	ft := &fakeT{}
	start := time.Now()
	Eventually(ft, 500*time.Millisecond, "the space to be Ready", func() (bool, string) {
		calls++
		return false, fmt.Sprintf("Ready=False, call %d", calls)
	})
	if d := time.Since(start); d < 500*time.Millisecond || d > 5*time.Second {
		t.Fatalf("gave up after %s, want about 500ms", d)
	}
	want := fmt.Sprintf("waited 500ms for the space to be Ready: Ready=False, call %d", calls)
	if ft.failed != want {
		t.Fatalf("failure = %q, want %q", ft.failed, want)
	}
}

func TestEventuallyAsksAtLeastOnce(t *testing.T) {
	ft := &fakeT{}
	Eventually(ft, 0, "anything", func() (bool, string) { return true, "" })
	if ft.failed != "" {
		t.Fatalf("failed %q with a condition that holds at once", ft.failed)
	}
}

func TestEventuallyCtxGivesUpWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	ft := &fakeT{}
	start := time.Now()
	EventuallyCtx(ctx, ft, time.Minute, "never", func() (bool, string) { return false, "not yet" })
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("waited %s after the context ended", d)
	}
	if !strings.HasPrefix(ft.failed, "waited 1m0s for never: not yet (context deadline exceeded)") {
		t.Fatalf("failure = %q", ft.failed)
	}
}
