package insights

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReportTable: the terminal report shows each space's figures (its
// forum's, or – without one), hides what rests on too few people, and draws
// the department matrix.
func TestReportTable(t *testing.T) {
	day := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	f := func(v float64) Figure { return Figure{Value: v, People: 6} }
	hidden := Figure{People: 2, Suppressed: true}
	r := Report{
		Window: Window{From: day.AddDate(0, 0, -7), To: day},
		Spaces: map[string]SpaceFigures{
			"research/research": {Messages: f(12), ActivePeople: f(10), Breadth: f(5.0 / 6), Reach: f(5),
				ReachShare: f(5.0 / 12), CrossAnswers: f(5), Leaders: hidden,
				Forum: &ForumFigures{Topics: hidden, Posts: f(9)}},
			"sales/sales": {Messages: f(5), ActivePeople: f(5), Breadth: f(1), Reach: f(0), ReachShare: f(0),
				CrossAnswers: f(0), Leaders: f(1)},
		},
		Answers:   map[string]map[string]Figure{"sales/sales": {"research/research": f(4), "sales/sales": hidden}},
		OpenShare: f(7.0 / 17),
	}
	var out bytes.Buffer
	if err := WriteText(&out, []Titled{{Name: "last 7 days", Report: r}}, []string{"research/research/general"}, 5); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	want := []string{
		"last 7 days (2026-11-29 – 2026-12-06); · rests on fewer than 5 people",
		"",
		"SPACE MESSAGES PEOPLE BREADTH REACH REACH SHARE ANSWERS ACROSS LEADERS TOPICS POSTS",
		"research/research 12 10 83% 5 42% 5 · · 9",
		"sales/sales 5 5 100% 0 0% 0 100% – –",
		"",
		"Who answers whom (rows answer columns):",
		"",
		`FROM \ TO research/research sales/sales`,
		"research/research 0 0",
		"sales/sales 4 ·",
		"",
		"Messages in Open spaces and shared rooms: 41%",
		"",
		"Rooms and forums whose history was longer than --max-pages (their oldest messages or posts are not counted): research/research/general",
		"",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

// TestReportWithoutAnswers: a window in which nobody answered anybody says so
// instead of drawing an empty matrix.
func TestReportWithoutAnswers(t *testing.T) {
	var out bytes.Buffer
	r := Report{Spaces: map[string]SpaceFigures{}, Answers: map[string]map[string]Figure{}}
	if err := WriteText(&out, []Titled{{Name: "last 7 days", Report: r}}, nil, 5); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "No answers in this window.") || strings.Contains(out.String(), "FROM") {
		t.Errorf("report without answers:\n%s", out.String())
	}
}
