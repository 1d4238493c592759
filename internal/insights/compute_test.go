package insights

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var day0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// org: engineering (e1–e6, Owners e1 e2) with a room and a room shared with
// marketing; marketing (m1–m6, Owner m1); commons, Open, declaring nobody; hr
// (h1–h5), opted out. o1 is in no department; p1 is in engineering and
// marketing.
func testOrg() Org {
	return Org{
		Spaces: map[string]Space{
			"eng":     {People: []string{"e1", "e2", "e3", "e4", "e5", "e6", "p1"}, Owners: []string{"e1", "e2"}},
			"mkt":     {People: []string{"m1", "m2", "m3", "m4", "m5", "m6", "p1"}, Owners: []string{"m1"}},
			"commons": {Open: true},
			"hr":      {People: []string{"h1", "h2", "h3", "h4", "h5"}, OptedOut: true},
		},
		Rooms: map[string]Room{
			"!eng": {Space: "eng"}, "!eng-shared": {Space: "eng", Shared: true},
			"!mkt": {Space: "mkt"}, "!lobby": {Space: "commons"}, "!hr": {Space: "hr"},
		},
	}
}

// conversation builds messages from "id sender room [answers]" lines, one
// minute apart from start.
func conversation(start time.Time, lines ...string) []Message {
	var out []Message
	for i, l := range lines {
		f := append(strings.Fields(l), "")
		out = append(out, Message{ID: f[0], Sender: f[1], Room: f[2], Answers: f[3],
			At: start.Add(time.Duration(i) * time.Minute)})
	}
	return out
}

func n(v float64, people int) Figure { return Figure{Value: v, People: people} }
func hidden(people int) Figure       { return Figure{People: people, Suppressed: true} }

// TestCompute: every figure of a small organisation, against what a person
// counting the messages by hand finds (minimum 1 person: nothing suppressed).
func TestCompute(t *testing.T) {
	week := Window{From: day0, To: day0.Add(7 * 24 * time.Hour)}
	cases := map[string]struct {
		msgs      []Message
		space     string
		want      SpaceFigures
		answers   map[string]map[string]Figure
		openShare Figure
	}{
		"three of engineering's seven people talk, both Owners among them": {
			msgs:  conversation(day0, "a e1 !eng", "b e2 !eng", "c e3 !eng", "d e3 !eng"),
			space: "eng",
			want: SpaceFigures{Messages: n(4, 3), ActivePeople: n(3, 3), Breadth: n(3.0/7, 7),
				Reach: n(0, 0), ReachShare: n(0, 0), CrossAnswers: n(0, 0), Leaders: n(1, 2)},
			answers: map[string]map[string]Figure{}, openShare: n(0, 3),
		},
		"marketing and an outsider take part in engineering's shared room": {
			msgs:  conversation(day0, "a m1 !eng-shared", "b m2 !eng-shared", "c o1 !eng-shared", "d e1 !eng-shared"),
			space: "eng",
			want: SpaceFigures{Messages: n(4, 4), ActivePeople: n(4, 4), Breadth: n(1.0/7, 7),
				Reach: n(3, 3), ReachShare: n(0.75, 3), CrossAnswers: n(0, 0), Leaders: n(0.5, 2)},
			answers: map[string]map[string]Figure{}, openShare: n(1, 4),
		},
		"answers across departments, within one, to oneself and from a person in both": {
			msgs: conversation(day0,
				"q e1 !eng", "a1 m1 !eng q", "a2 e2 !eng q", "a3 e1 !eng q", "a4 o1 !eng a1", "a5 p1 !eng a1"),
			space: "eng",
			want: SpaceFigures{Messages: n(6, 5), ActivePeople: n(5, 5), Breadth: n(3.0/7, 7),
				Reach: n(2, 2), ReachShare: n(2.0/6, 2), CrossAnswers: n(2, 3), Leaders: n(1, 2)},
			// m1 answers e1 (mkt→eng), e2 answers e1 (eng→eng), e1's own answer
			// counts nowhere, o1 answers m1 (outside→mkt), p1 (eng and mkt)
			// answers m1: not across, as p1 is in marketing too.
			answers: map[string]map[string]Figure{
				"mkt":   {"eng": n(1, 2), "mkt": n(1, 2)},
				"eng":   {"eng": n(1, 2), "mkt": n(1, 2)},
				Outside: {"mkt": n(1, 2)},
			},
			openShare: n(0, 5),
		},
		"an answer names a message of another room: it answers nobody": {
			// m1 says something in marketing's room; e1, in engineering's,
			// sends a reply that points at it. Matrix replies and threads stay
			// in their room, so no one across departments was answered.
			msgs:  conversation(day0, "q m1 !mkt", "a e1 !eng q"),
			space: "eng",
			want: SpaceFigures{Messages: n(1, 1), ActivePeople: n(1, 1), Breadth: n(1.0/7, 7),
				Reach: n(0, 0), ReachShare: n(0, 0), CrossAnswers: n(0, 0), Leaders: n(0.5, 2)},
			answers: map[string]map[string]Figure{}, openShare: n(0, 2),
		},
		"an opted-out space counts nowhere; its people are outsiders elsewhere": {
			msgs:  conversation(day0, "a h1 !hr", "b h2 !hr", "c h1 !eng", "d e1 !eng c"),
			space: "eng",
			want: SpaceFigures{Messages: n(2, 2), ActivePeople: n(2, 2), Breadth: n(1.0/7, 7),
				Reach: n(1, 1), ReachShare: n(0.5, 1), CrossAnswers: n(1, 2), Leaders: n(0.5, 2)},
			answers:   map[string]map[string]Figure{"eng": {Outside: n(1, 2)}},
			openShare: n(0, 2),
		},
		"the window: before and after it nothing counts, but an answer may answer an older message": {
			msgs: append(conversation(day0.Add(-time.Hour), "old m1 !eng"),
				append(conversation(day0, "a e1 !eng old"), conversation(week.To, "late e2 !eng")...)...),
			space: "eng",
			want: SpaceFigures{Messages: n(1, 1), ActivePeople: n(1, 1), Breadth: n(1.0/7, 7),
				Reach: n(0, 0), ReachShare: n(0, 0), CrossAnswers: n(1, 2), Leaders: n(0.5, 2)},
			answers:   map[string]map[string]Figure{"eng": {"mkt": n(1, 2)}},
			openShare: n(0, 1),
		},
		"messages in an Open space and in shared rooms make the open share": {
			msgs:  conversation(day0, "a o1 !lobby", "b e1 !eng-shared", "c e2 !eng", "d m1 !mkt"),
			space: "commons",
			want: SpaceFigures{Messages: n(1, 1), ActivePeople: n(1, 1), Breadth: n(0, 0),
				Reach: n(1, 1), ReachShare: n(1, 1), CrossAnswers: n(0, 0), Leaders: n(0, 0)},
			answers: map[string]map[string]Figure{}, openShare: n(0.5, 4),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := Compute(testOrg(), tc.msgs, week, 1)
			if _, ok := r.Spaces["hr"]; ok {
				t.Error("the opted-out space has figures")
			}
			if diff := cmp.Diff(tc.want, r.Spaces[tc.space]); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.space, diff)
			}
			if diff := cmp.Diff(tc.answers, r.Answers); diff != "" {
				t.Errorf("who answers whom (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.openShare, r.OpenShare); diff != "" {
				t.Errorf("open share (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFiguresOverFewPeopleAreSuppressed: with the default minimum of 5, a
// figure resting on fewer people says nothing but that it is suppressed.
func TestFiguresOverFewPeopleAreSuppressed(t *testing.T) {
	week := Window{From: day0, To: day0.Add(7 * 24 * time.Hour)}
	var lines []string
	for i, who := range []string{"e1", "e2", "e3", "e4", "e5", "m1", "m1", "m2"} {
		lines = append(lines, fmt.Sprintf("x%d %s !eng", i, who))
	}
	r := Compute(testOrg(), conversation(day0, lines...), week, DefaultMinPeople)
	want := SpaceFigures{
		Messages: n(8, 7), ActivePeople: n(7, 7), Breadth: n(5.0/7, 7),
		Reach: hidden(2), ReachShare: hidden(2), CrossAnswers: n(0, 0), Leaders: hidden(2),
	}
	if diff := cmp.Diff(want, r.Spaces["eng"]); diff != "" {
		t.Errorf("engineering (-want +got):\n%s", diff)
	}
	if got := r.Spaces["mkt"].Breadth; got != n(0, 7) {
		t.Errorf("marketing's breadth = %+v, want 0 over its 7 people: a share of a large enough group is shown", got)
	}
}
