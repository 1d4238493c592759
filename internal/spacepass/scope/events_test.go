package scope

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestJoinNotes(t *testing.T) {
	many := make([]string, 100)
	for i := range many {
		many[i] = fmt.Sprintf("Created room #ns.space.room-%02d:example.org", i)
	}
	cases := map[string]struct {
		notes    []string
		want     string
		wantTail string
	}{
		"one":  {notes: []string{"Created Role a"}, want: "Created Role a"},
		"two":  {notes: []string{"Created Role a", "Created RoleBinding b"}, want: "Created Role a; Created RoleBinding b"},
		"many": {notes: many, wantTail: "; and 77 more"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := joinNotes(tc.notes)
			if len(got) > maxNoteLength {
				t.Fatalf("joinNotes is %d bytes, want at most %d", len(got), maxNoteLength)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("joinNotes = %q, want %q", got, tc.want)
			}
			if !strings.HasSuffix(got, tc.wantTail) {
				t.Errorf("joinNotes = %q, want it to end with %q", got, tc.wantTail)
			}
		})
	}
}

func TestSeriesAction(t *testing.T) {
	long := ""
	for range 40 {
		long += "é-x"
	}
	cases := map[string]struct {
		action, target string
		want           string
	}{
		"short":          {action: "Create", target: "room general", want: "Create: room general"},
		"cut at 128":     {action: "Create", target: long, want: ("Create: " + long)[:128]},
		"no broken rune": {action: "Create", target: "abc" + long, want: ("Create: abc" + long)[:127]},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := seriesAction(tc.action, tc.target)
			if len(got) > maxActionLength || !utf8.ValidString(got) {
				t.Fatalf("seriesAction = %q (%d bytes), want at most %d bytes of valid UTF-8", got, len(got), maxActionLength)
			}
			if got != tc.want {
				t.Errorf("seriesAction = %q, want %q", got, tc.want)
			}
		})
	}
}
