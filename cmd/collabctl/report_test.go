package main

import (
	"strings"
	"testing"
)

// TestReportRefusesAFloorBelowFive: the minimum number of people may be
// raised, never lowered below the default.
func TestReportRefusesAFloorBelowFive(t *testing.T) {
	r := collabctl(t, "collabctl", "", "report", "--min-people", "3")
	if r.code != exitUsage || !strings.Contains(r.stderr, "may be raised, not lowered below 5") {
		t.Errorf("exit %d, stderr %q; want 2 and why", r.code, r.stderr)
	}
}
