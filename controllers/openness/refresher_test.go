package openness

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/insights"
)

func TestWindowStatusShowsCountsAndPercentsAndNamesWhatIsHidden(t *testing.T) {
	n := func(v float64, people int) insights.Figure { return insights.Figure{Value: v, People: people} }
	hidden := insights.Figure{People: 2, Suppressed: true}
	tests := map[string]struct {
		figures insights.SpaceFigures
		want    collabv1.InsightsWindow
	}{
		"everything shown, shares rounded to whole percents": {
			figures: insights.SpaceFigures{Messages: n(12, 10), ActivePeople: n(10, 10), Breadth: n(5.0/6, 6),
				Reach: n(5, 5), ReachShare: n(5.0/12, 5), CrossAnswers: n(5, 6), Leaders: n(0.5, 6)},
			want: collabv1.InsightsWindow{Messages: ptr.To[int32](12), ActivePeople: ptr.To[int32](10), BreadthPercent: ptr.To[int32](83),
				Reach: ptr.To[int32](5), ReachSharePercent: ptr.To[int32](42), CrossAnswers: ptr.To[int32](5), LeadersPercent: ptr.To[int32](50)},
		},
		"a forum's topics and posts, one of them hidden": {
			figures: insights.SpaceFigures{Messages: n(3, 6), ActivePeople: n(6, 6), Breadth: n(1, 6), Reach: n(0, 0),
				ReachShare: n(0, 0), CrossAnswers: n(0, 0), Leaders: n(1, 6),
				Forum: &insights.ForumFigures{Topics: hidden, Posts: n(7, 6)}},
			want: collabv1.InsightsWindow{Messages: ptr.To[int32](3), ActivePeople: ptr.To[int32](6), BreadthPercent: ptr.To[int32](100),
				Reach: ptr.To[int32](0), ReachSharePercent: ptr.To[int32](0), CrossAnswers: ptr.To[int32](0), LeadersPercent: ptr.To[int32](100),
				ForumPosts: ptr.To[int32](7), Suppressed: []string{"forumTopics"}},
		},
		"hidden figures are absent and named, in order": {
			figures: insights.SpaceFigures{Messages: n(3, 6), ActivePeople: hidden, Breadth: hidden, Reach: n(0, 0),
				ReachShare: n(0, 0), CrossAnswers: hidden, Leaders: hidden},
			want: collabv1.InsightsWindow{Messages: ptr.To[int32](3), Reach: ptr.To[int32](0), ReachSharePercent: ptr.To[int32](0),
				Suppressed: []string{"activePeople", "breadth", "crossAnswers", "leaders"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, windowStatus(tc.figures)); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOnlyChangedFiguresAreWritten: the time alone never makes a write, so a
// quiet organisation costs the API server nothing every interval.
func TestOnlyChangedFiguresAreWritten(t *testing.T) {
	at := func(h int) metav1.Time { return metav1.NewTime(time.Date(2026, 12, 7, h, 0, 0, 0, time.UTC)) }
	st := func(when metav1.Time, messages int32) *collabv1.InsightsStatus {
		return &collabv1.InsightsStatus{ChangedAt: when, Week: collabv1.InsightsWindow{Messages: ptr.To(messages)}}
	}
	tests := map[string]struct {
		had, now *collabv1.InsightsStatus
		same     bool
	}{
		"the same figures an hour later": {st(at(1), 12), st(at(2), 12), true},
		"a figure changed":               {st(at(1), 12), st(at(2), 13), false},
		"none before":                    {nil, st(at(2), 12), false},
		"the space left the insights":    {st(at(1), 12), nil, false},
		"out of the insights, still":     {nil, nil, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := sameFigures(tc.had, tc.now); got != tc.same {
				t.Errorf("sameFigures = %v, want %v", got, tc.same)
			}
		})
	}
}

func TestIncompleteRoomsMarkTheirSpaces(t *testing.T) {
	got := incompleteSpaces([]string{"dept-eng/engineering/general", "dept-eng/engineering/random", "sales/sales/general"})
	want := map[string]bool{"dept-eng/engineering": true, "sales/sales": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("incomplete spaces (-want +got):\n%s", diff)
	}
}
