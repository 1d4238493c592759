package eventrecorder

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func TestSeriesMemory(t *testing.T) {
	window, every := 6*time.Minute, 30*time.Second
	cases := []struct {
		name  string
		steps func(m *seriesMemory) []string // what happened, step by step
		want  []string
	}{{
		name: "a repeat within the window folds",
		steps: func(m *seriesMemory) []string {
			m.remember(1, "ns", "e1", t0)
			s, ok := m.seen(1, t0.Add(time.Minute))
			return []string{yes(ok), count(s)}
		},
		want: []string{"yes", "2"},
	}, {
		name: "a repeat after the window is a new event",
		steps: func(m *seriesMemory) []string {
			m.remember(1, "ns", "e1", t0)
			_, ok := m.seen(1, t0.Add(window+time.Second))
			return []string{yes(ok), itoa(m.len())}
		},
		want: []string{"no", "0"},
	}, {
		name: "each repeat moves the window",
		steps: func(m *seriesMemory) []string {
			m.remember(1, "ns", "e1", t0)
			m.seen(1, t0.Add(5*time.Minute))
			s, ok := m.seen(1, t0.Add(10*time.Minute))
			return []string{yes(ok), count(s)}
		},
		want: []string{"yes", "3"},
	}, {
		name: "full: the one seen longest ago goes, returned when its count is unwritten",
		steps: func(m *seriesMemory) []string {
			m.remember(1, "ns", "e1", t0)
			m.remember(2, "ns", "e2", t0)
			m.seen(1, t0.Add(time.Second)) // 1 is dirty and now the newest
			m.seen(2, t0.Add(2*time.Second))
			evicted := m.remember(3, "ns", "e3", t0.Add(3*time.Second))
			_, still := m.seen(2, t0.Add(4*time.Second))
			return []string{name(evicted), count(evicted), yes(still), itoa(m.len())}
		},
		want: []string{"e1", "2", "yes", "2"},
	}, {
		name: "full: a written series goes without a write",
		steps: func(m *seriesMemory) []string {
			m.remember(1, "ns", "e1", t0)
			m.remember(2, "ns", "e2", t0)
			return []string{name(m.remember(3, "ns", "e3", t0))}
		},
		want: []string{"none"},
	}, {
		name: "sweep: unwritten counts are due once written long enough ago, expired ones forgotten",
		steps: func(m *seriesMemory) []string {
			m.remember(1, "ns", "e1", t0)
			m.remember(2, "ns", "e2", t0)
			m.seen(1, t0.Add(time.Second))
			early := m.sweep(t0.Add(10*time.Second), every)
			due := m.sweep(t0.Add(40*time.Second), every)
			due[0].written, due[0].lastWrite = due[0].count, t0.Add(40*time.Second)
			expired := m.sweep(t0.Add(window+2*time.Second), every)
			return []string{itoa(len(early)), names(due), itoa(len(expired)), itoa(m.len())}
		},
		want: []string{"0", "e1", "0", "0"},
	}, {
		name: "sweep: an expired series with an unwritten count is due, and forgotten",
		steps: func(m *seriesMemory) []string {
			m.remember(1, "ns", "e1", t0)
			m.seen(1, t0.Add(time.Second))
			due := m.sweep(t0.Add(window+2*time.Second), window*2)
			return []string{names(due), itoa(m.len())}
		},
		want: []string{"e1", "0"},
	}, {
		name: "forgetting a series gone already leaves its successor alone",
		steps: func(m *seriesMemory) []string {
			m.remember(1, "ns", "old", t0)
			old, _ := m.seen(1, t0)
			m.remember(1, "ns", "new", t0.Add(time.Second))
			m.forget(old)
			s, ok := m.seen(1, t0.Add(2*time.Second))
			return []string{yes(ok), name(s)}
		},
		want: []string{"yes", "new"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.steps(newSeriesMemory(2, window))
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func count(s *series) string {
	if s == nil {
		return "none"
	}
	return itoa(int(s.count))
}

func name(s *series) string {
	if s == nil {
		return "none"
	}
	return s.name
}

func names(ss []*series) string {
	out := ""
	for _, s := range ss {
		out += s.name
	}
	return out
}

func itoa(n int) string { return fmt.Sprint(n) }
