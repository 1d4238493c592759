package reaper

import "testing"

func TestInOwnersNamespace(t *testing.T) {
	for _, tc := range []struct {
		localpart, owner string
		want             bool
	}{
		{"eng.dept", "eng/dept", true},
		{"eng.dept.general", "eng/dept", true},
		{"eng.other.general", "eng/dept", true}, // the same tenant: its namespace is the boundary
		{"engineering.dept", "eng/dept", false},
		{"sales.dept.general", "eng/dept", false},
		{"eng", "eng/dept", false},
		{"dept-general", "eng/dept", false}, // a legacy alias: never what a create leaves now
		{"eng.dept", "", false},
		{"eng.dept", "eng", false},
	} {
		if got := inOwnersNamespace(tc.localpart, tc.owner); got != tc.want {
			t.Errorf("inOwnersNamespace(%q, %q) = %v, want %v", tc.localpart, tc.owner, got, tc.want)
		}
	}
}

func TestOrphanAction(t *testing.T) {
	tests := map[string]string{
		"adopted":                                     "Adopt",
		"deleted: an unused duplicate":                "Delete",
		"kept: people were members":                   "Keep",
		"reported: would delete it":                   "Report",
		"held: the hour's deletions are used up":      "Hold",
		"too young: perhaps a create still in flight": "Wait",
		"unknown: matrix getState: 502":               "Unknown",
		"its alias points at it":                      "Ignore",
		"not an interrupted create":                   "Ignore",
	}
	for verdict, want := range tests {
		if got := orphanAction(verdict); got != want {
			t.Errorf("orphanAction(%q) = %q, want %q", verdict, got, want)
		}
	}
}
