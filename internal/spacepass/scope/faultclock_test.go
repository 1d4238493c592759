package scope

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestFaultUnderWay(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	cases := map[string]struct {
		reconcilingSince, lastAnswer time.Time
		want                         time.Duration
	}{
		"a fault that has just begun":                 {want: 0},
		"faults for 3m, the server never answered":    {reconcilingSince: ago(3 * time.Minute), want: 3 * time.Minute},
		"faults for 3m, the server answered 20s ago":  {reconcilingSince: ago(3 * time.Minute), lastAnswer: ago(20 * time.Second), want: 20 * time.Second},
		"an answer from before the faults began":      {reconcilingSince: ago(time.Minute), lastAnswer: ago(time.Hour), want: time.Minute},
		"the server answered during this very pass":   {reconcilingSince: ago(10 * time.Minute), lastAnswer: now, want: 0},
		"a first fault right after an earlier answer": {lastAnswer: ago(time.Second), want: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := faultUnderWay(now, tc.reconcilingSince, tc.lastAnswer); got != tc.want {
				t.Errorf("faultUnderWay = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAnswerClockForgetsASpace(t *testing.T) {
	var c AnswerClock
	gone, kept := types.NamespacedName{Namespace: "a", Name: "gone"}, types.NamespacedName{Namespace: "a", Name: "kept"}
	at := time.Now()
	c.Heard(gone, "ChatReady", at)
	c.Heard(kept, "ChatReady", at)
	c.Forget(gone)
	if !c.Last(gone, "ChatReady").IsZero() {
		t.Error("a forgotten space still has an answer time")
	}
	if !c.Last(kept, "ChatReady").Equal(at) {
		t.Error("forgetting one space lost another's answer time")
	}
}
