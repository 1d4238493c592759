package client

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/insightsread"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

// department makes a space of namespace name whose people are dave (Owner of
// every space here), the owner and the members, with the rooms.
func department(name, owner string, members []string, rooms ...collabv1.Room) *collabv1.CollaborationSpace {
	s := space(name, name, collabv1.VisibilityDepartment, "", rooms...)
	s.Spec.Members = append(s.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: owner, Role: collabv1.RoleOwner})
	for _, m := range members {
		s.Spec.Members = append(s.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: m, Role: collabv1.RoleMember})
	}
	return s
}

// TestInsightsCountWhatPeopleSaid: research (dave, ana Owners; ben, cal, dan,
// eve) and sales (dave Owner; fay, gus, hal, ivy, jon) talk in real rooms on
// Dendrite: research's general room, its open-questions room shared with
// sales, and sales' general room, with replies within and across departments.
// What the operator reads of their history (ReadInsights) and computes
// equals the count by hand, figures resting on fewer than five people are
// hidden, and legal (opted out) and audit (kept out by a policy) count nowhere.
func TestInsightsCountWhatPeopleSaid(t *testing.T) {
	ctx := context.Background()
	// kim talks only in the spaces kept out of the insights.
	names := []string{"ana", "ben", "cal", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kim"}
	who := map[string]*matrixuser.User{}
	for _, n := range names {
		id, token, err := homeserver.RegisterUser(ctx, n, password(n), false)
		if err != nil {
			t.Fatal(err)
		}
		who[n] = matrixuser.New(homeserver.URL, id, token)
	}
	sales := ready(t, department("sales", "fay", nil, collabv1.Room{Name: "general"}))
	sales.Spec.Members[1].Role = collabv1.RoleMember // fay is a Member: sales' only Owner is dave
	for _, m := range []string{"gus", "hal", "ivy", "jon"} {
		sales.Spec.Members = append(sales.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: m, Role: collabv1.RoleMember})
	}
	if err := k8s.Update(ctx, sales); err != nil {
		t.Fatal(err)
	}
	sales = ready(t, sales)
	research := ready(t, department("research", "ana", []string{"ben", "cal", "dan", "eve"},
		collabv1.Room{Name: "general"},
		collabv1.Room{Name: "open-questions", SharedWith: []collabv1.SpaceReference{{Namespace: "sales", Name: "sales"}}}))
	legal := space("legal", "legal", collabv1.VisibilityDepartment, "kim", collabv1.Room{Name: "general"})
	legal.Spec.Insights = &collabv1.SpaceInsights{Enabled: ptr.To(false)}
	legal = ready(t, legal)
	// audit's insights are off by the platform's policy, which also sets the
	// minimum of people per figure (to the default, so the figures below hold).
	audit := ready(t, space("audit", "audit", collabv1.VisibilityDepartment, "kim", collabv1.Room{Name: "general"}))
	policy := &collabv1.CollaborationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "insights-off-for-audit"},
		Spec: collabv1.CollaborationPolicySpec{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "audit"}},
			Insights:          &collabv1.PolicyInsights{Enabled: ptr.To(false), MinPeople: ptr.To[int32](5)}}}
	if err := k8s.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), policy) })
	researchGeneral, openQuestions := research.Status.Chat.Rooms[0].RoomID, research.Status.Chat.Rooms[1].RoomID
	salesGeneral := sales.Status.Chat.Rooms[0].RoomID
	linked(t, "open-questions under Sales' space", sales.Status.Chat.SpaceID, openQuestions)

	join := func(person, spaceID string, rooms ...string) {
		t.Helper()
		for _, id := range append([]string{spaceID}, rooms...) {
			if err := who[person].Join(ctx, id); err != nil {
				t.Fatalf("%s cannot join %s: %v", person, id, err)
			}
		}
	}
	for _, p := range []string{"ana", "ben", "cal", "dan", "eve"} {
		join(p, research.Status.Chat.SpaceID, researchGeneral, openQuestions)
	}
	for _, p := range []string{"fay", "gus", "hal", "ivy", "jon"} {
		join(p, sales.Status.Chat.SpaceID, salesGeneral, openQuestions)
	}
	start := time.Now().Add(-time.Minute)
	said := map[string]string{}
	say := func(person, room, key, answers string) {
		t.Helper()
		id, err := who[person].Say(ctx, room, "message "+key, said[answers])
		if err != nil {
			t.Fatalf("%s cannot say %s: %v", person, key, err)
		}
		said[key] = id
	}
	say("ana", researchGeneral, "q1", "")
	say("ben", researchGeneral, "b1", "q1")
	say("cal", researchGeneral, "c1", "")
	say("dan", researchGeneral, "d1", "")
	say("eve", researchGeneral, "e1", "b1")
	say("ana", openQuestions, "q2", "")
	say("fay", openQuestions, "f2", "q2")
	say("gus", openQuestions, "g2", "q2")
	say("hal", openQuestions, "h2", "f2")
	say("ivy", openQuestions, "i2", "q2")
	say("jon", openQuestions, "j2", "q2")
	say("ben", openQuestions, "b2", "j2")
	for _, p := range []string{"fay", "gus", "hal", "ivy", "jon"} {
		say(p, salesGeneral, p+"3", "")
	}
	// legal opted out and audit's policy keeps it out: what kim says there
	// counts nowhere.
	for _, off := range []*collabv1.CollaborationSpace{legal, audit} {
		for _, id := range []string{off.Status.Chat.SpaceID, off.Status.Chat.Rooms[0].RoomID} {
			if err := who["kim"].Join(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := who["kim"].Say(ctx, off.Status.Chat.Rooms[0].RoomID, "not counted", ""); err != nil {
			t.Fatal(err)
		}
	}

	in, err := insightsread.Read(ctx, k8s, start, insightsread.Options{
		Chat: &matrix.Connector{}, CredentialsNamespace: operatorNamespace})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Incomplete) != 0 {
		t.Errorf("histories cut short: %v", in.Incomplete)
	}
	if len(in.Unread) != 0 {
		t.Errorf("spaces not read: %v", in.Unread)
	}
	r := insights.Compute(in.Org, in.Messages, insights.Window{From: start, To: time.Now().Add(time.Minute)}, insights.DefaultMinPeople)

	n := func(v float64, people int) insights.Figure { return insights.Figure{Value: v, People: people} }
	hidden := func(people int) insights.Figure { return insights.Figure{People: people, Suppressed: true} }
	want := map[string]insights.SpaceFigures{
		// 12 messages from 10 people; 5 of its 6 people; 5 from sales sent 5;
		// fay, gus, ivy, jon answered ana and ben answered jon; 2 Owners.
		"research/research": {Messages: n(12, 10), ActivePeople: n(10, 10), Breadth: n(5.0/6, 6),
			Reach: n(5, 5), ReachShare: n(5.0/12, 5), CrossAnswers: n(5, 6), Leaders: hidden(2)},
		"sales/sales": {Messages: n(5, 5), ActivePeople: n(5, 5), Breadth: n(5.0/6, 6),
			Reach: n(0, 0), ReachShare: n(0, 0), CrossAnswers: n(0, 0), Leaders: hidden(1)},
	}
	for _, off := range []string{"legal/legal", "audit/audit"} {
		if f, ok := r.Spaces[off]; ok {
			t.Errorf("%s is out of the insights, yet has figures: %+v", off, f)
		}
	}
	if in.MinPeople != 5 {
		t.Errorf("the policies' minimum of people = %d, want 5", in.MinPeople)
	}
	for key, w := range want {
		if diff := cmp.Diff(w, r.Spaces[key]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", key, diff)
		}
	}
	// dave belongs to both departments but said nothing. Sales answered research
	// 4 times among 5 people; the other pairs rest on fewer than five.
	if got := r.Answers["sales/sales"]["research/research"]; got != n(4, 5) {
		t.Errorf("sales answering research = %+v, want 4 answers among 5 people", got)
	}
	for _, pair := range [][2]string{{"research/research", "research/research"}, {"research/research", "sales/sales"}, {"sales/sales", "sales/sales"}} {
		if got := r.Answers[pair[0]][pair[1]]; !got.Suppressed {
			t.Errorf("%s answering %s = %+v, want hidden: it rests on fewer than five people", pair[0], pair[1], got)
		}
	}
	if got := r.OpenShare; got != n(7.0/17, 10) {
		t.Errorf("open share = %+v, want the 7 of 17 messages sent in the shared room (legal's and audit's uncounted)", got)
	}

	// Sales' own room heard only its own people: its figures do not change
	// when research's do.
	salesFigures := &collabv1.InsightsWindow{Messages: ptr.To[int32](5), ActivePeople: ptr.To[int32](5), BreadthPercent: ptr.To[int32](83),
		Reach: ptr.To[int32](0), ReachSharePercent: ptr.To[int32](0), CrossAnswers: ptr.To[int32](0), Suppressed: []string{"leaders"}}
	insightsInStatus(t, map[string]*collabv1.InsightsWindow{
		// The same figures in whole percents, for the last 7 and 30 days alike.
		"research": {Messages: ptr.To[int32](12), ActivePeople: ptr.To[int32](10), BreadthPercent: ptr.To[int32](83),
			Reach: ptr.To[int32](5), ReachSharePercent: ptr.To[int32](42), CrossAnswers: ptr.To[int32](5), Suppressed: []string{"leaders"}},
		"sales": salesFigures,
		"legal": nil, "audit": nil,
	})
	if got := testutil.ToFloat64(metrics.SpaceInsight.WithLabelValues("research", "research", "30d", "crossAnswers")); got != 5 {
		t.Errorf("collab_space_insight{space=research,figure=crossAnswers} = %v, want 5", got)
	}
	if got := testutil.ToFloat64(metrics.DepartmentAnswers.WithLabelValues("30d", "sales/sales", "research/research")); got != 4 {
		t.Errorf("collab_department_answers{from=sales,to=research} = %v, want 4", got)
	}

	// The manager restarts in the middle of the week; meanwhile eve answers
	// ana in research's room and fay (sales) answers her in the shared one. The
	// new manager counts what came before the restart and what came while it
	// was down: nothing is lost, nothing counted twice.
	whileStopped(t, func() {
		say("eve", researchGeneral, "e4", "q1")
		say("fay", openQuestions, "f4", "q2")
	})
	insightsInStatus(t, map[string]*collabv1.InsightsWindow{
		// 14 messages, the same 10 people; 6 of 14 from sales; fay answered ana once more.
		"research": {Messages: ptr.To[int32](14), ActivePeople: ptr.To[int32](10), BreadthPercent: ptr.To[int32](83),
			Reach: ptr.To[int32](5), ReachSharePercent: ptr.To[int32](43), CrossAnswers: ptr.To[int32](6), Suppressed: []string{"leaders"}},
		"sales": salesFigures,
		"legal": nil, "audit": nil,
	})
	if got := testutil.ToFloat64(metrics.DepartmentAnswers.WithLabelValues("30d", "sales/sales", "research/research")); got != 5 {
		t.Errorf("after the restart, collab_department_answers{from=sales,to=research} = %v, want 5", got)
	}
}

// insightsInStatus waits until the manager, which computes the insights every
// insightsInterval, shows want in each space's status.insights (the space of
// namespace and name key), for both windows; nil wants none at all.
func insightsInStatus(t *testing.T, want map[string]*collabv1.InsightsWindow) {
	t.Helper()
	wait.Eventually(t, time.Minute, "the openness insights in the spaces' status", func() (bool, string) {
		for name, w := range want {
			space := &collabv1.CollaborationSpace{}
			if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: name, Name: name}, space); err != nil {
				return false, err.Error()
			}
			got := space.Status.Insights
			switch {
			case w == nil && got != nil:
				return false, fmt.Sprintf("%s is out of the insights, yet its status has %+v", name, got)
			case w == nil:
			case got == nil:
				return false, name + " has no status.insights yet"
			case !cmp.Equal(*w, got.Week) || !cmp.Equal(*w, got.Month):
				return false, fmt.Sprintf("%s's status.insights (-want +got):\n%s%s", name, cmp.Diff(*w, got.Week), cmp.Diff(*w, got.Month))
			}
		}
		return true, ""
	})
}
