package stream

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
)

// fakeTimers is a clock for the coalescer: time moves only when the test says,
// and timers fire in order as it passes them.
type fakeTimers struct {
	now    time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	f  func()
}

func (c *fakeTimers) after(d time.Duration, f func()) {
	c.timers = append(c.timers, fakeTimer{at: c.now.Add(d), f: f})
}

// advance moves the clock to t, firing every timer due by then at its own time.
func (c *fakeTimers) advance(t time.Time) {
	for {
		slices.SortStableFunc(c.timers, func(a, b fakeTimer) int { return a.at.Compare(b.at) })
		if len(c.timers) == 0 || c.timers[0].at.After(t) {
			break
		}
		next := c.timers[0]
		c.timers = c.timers[1:]
		c.now = next.at
		next.f()
	}
	c.now = t
}

// TestCoalescerWakesASpaceAtMostOncePerInterval: however many changes the stream
// reports for a space, it is woken at most once per interval; the first change
// after a quiet interval wakes it at once, and the last change of a flood is
// never left without a wake-up after it. Spaces do not hold each other up.
func TestCoalescerWakesASpaceAtMostOncePerInterval(t *testing.T) {
	const interval = time.Second
	type wake struct {
		at    time.Duration // since the start
		space string
	}
	// flood is a change for space every step from from to to, both included.
	flood := func(space string, from, to, step time.Duration) []wake {
		var out []wake
		for at := from; at <= to; at += step {
			out = append(out, wake{at, space})
		}
		return out
	}
	cases := map[string]struct {
		wakes []wake
		until time.Duration
		want  []wake // the wake-ups sent, in order
	}{
		"one change: woken at once": {
			wakes: []wake{{0, "a"}}, until: 5 * time.Second,
			want: []wake{{0, "a"}},
		},
		"changes a quiet interval apart: each at once": {
			wakes: []wake{{0, "a"}, {time.Second, "a"}, {3 * time.Second, "a"}}, until: 5 * time.Second,
			want: []wake{{0, "a"}, {time.Second, "a"}, {3 * time.Second, "a"}},
		},
		"a second change within the interval: held to its end": {
			wakes: []wake{{0, "a"}, {300 * time.Millisecond, "a"}}, until: 5 * time.Second,
			want: []wake{{0, "a"}, {time.Second, "a"}},
		},
		"100 changes a second for 3 s: one wake-up a second, the last change followed by one": {
			wakes: flood("a", 0, 2990*time.Millisecond, 10*time.Millisecond), until: 10 * time.Second,
			want: []wake{{0, "a"}, {time.Second, "a"}, {2 * time.Second, "a"}, {3 * time.Second, "a"}},
		},
		"a flood in one space does not delay another": {
			wakes: append(flood("a", 0, 1500*time.Millisecond, 10*time.Millisecond), wake{1505 * time.Millisecond, "b"}),
			until: 10 * time.Second,
			want:  []wake{{0, "a"}, {time.Second, "a"}, {1505 * time.Millisecond, "b"}, {2 * time.Second, "a"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
			clock := &fakeTimers{now: start}
			var sent []wake
			c := newCoalescer(interval, func(s types.NamespacedName) {
				sent = append(sent, wake{clock.now.Sub(start), s.Name})
			})
			c.now, c.after = func() time.Time { return clock.now }, clock.after
			wakes := slices.Clone(tc.wakes)
			slices.SortStableFunc(wakes, func(a, b wake) int { return int(a.at - b.at) })
			for _, w := range wakes {
				clock.advance(start.Add(w.at))
				c.wake(types.NamespacedName{Namespace: "ns", Name: w.space})
			}
			clock.advance(start.Add(tc.until))
			if diff := cmp.Diff(tc.want, sent, cmp.AllowUnexported(wake{})); diff != "" {
				t.Errorf("wake-ups sent (-want +got):\n%s", diff)
			}
			perSpace := map[string][]time.Duration{}
			for _, w := range sent {
				perSpace[w.space] = append(perSpace[w.space], w.at)
			}
			for space, at := range perSpace {
				for i := 1; i < len(at); i++ {
					if gap := at[i] - at[i-1]; gap < interval {
						t.Errorf("space %s woken twice %s apart: %s", space, gap, fmt.Sprint(at))
					}
				}
			}
		})
	}
}
