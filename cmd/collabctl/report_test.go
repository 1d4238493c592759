package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/opencommons/collab-operator/internal/insights"
)

// TestReportTable: the terminal report shows each space's figures, hides what
// rests on too few people, and draws the department matrix.
func TestReportTable(t *testing.T) {
	day := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	f := func(v float64) insights.Figure { return insights.Figure{Value: v, People: 6} }
	hidden := insights.Figure{People: 2, Suppressed: true}
	r := insights.Report{
		Window: insights.Window{From: day.AddDate(0, 0, -7), To: day},
		Spaces: map[string]insights.SpaceFigures{
			"research/research": {Messages: f(12), ActivePeople: f(10), Breadth: f(5.0 / 6), Reach: f(5),
				ReachShare: f(5.0 / 12), CrossAnswers: f(5), Leaders: hidden},
		},
		Answers:   map[string]map[string]insights.Figure{"sales/sales": {"research/research": f(4), "sales/sales": hidden}},
		OpenShare: f(7.0 / 17),
	}
	var out bytes.Buffer
	if err := writeReport(&out, []insights.Report{r}, []string{"research/research/general"}, 5); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	want := []string{
		"last 7 days (2026-11-29 – 2026-12-06); · rests on fewer than 5 people",
		"",
		"SPACE MESSAGES PEOPLE BREADTH REACH REACH SHARE ANSWERS ACROSS LEADERS",
		"research/research 12 10 83% 5 42% 5 ·",
		"",
		"Who answers whom (rows answer columns):",
		"",
		`FROM \ TO research/research sales/sales`,
		"research/research 0 0",
		"sales/sales 4 ·",
		"",
		"Messages in Open spaces and shared rooms: 41%",
		"",
		"Rooms whose history was longer than --max-pages (their oldest messages are not counted): research/research/general",
		"",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

// TestReportRefusesAFloorBelowFive: the minimum number of people may be
// raised, never lowered below the default.
func TestReportRefusesAFloorBelowFive(t *testing.T) {
	r := collabctl(t, "collabctl", "", "report", "--min-people", "3")
	if r.code != exitUsage || !strings.Contains(r.stderr, "may be raised, not lowered below 5") {
		t.Errorf("exit %d, stderr %q; want 2 and why", r.code, r.stderr)
	}
}

// TestReportWithoutAnswers: a window in which nobody answered anybody says so
// instead of drawing an empty matrix.
func TestReportWithoutAnswers(t *testing.T) {
	var out bytes.Buffer
	r := insights.Report{Spaces: map[string]insights.SpaceFigures{}, Answers: map[string]map[string]insights.Figure{}}
	if err := writeReport(&out, []insights.Report{r}, nil, 5); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "No answers in this window.") || strings.Contains(out.String(), "FROM") {
		t.Errorf("report without answers:\n%s", out.String())
	}
}
