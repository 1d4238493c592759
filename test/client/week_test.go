package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/engines"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/insightsread"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

// TestAKnownWeekAcrossFourDepartments plays a known week of conversation on a
// real Dendrite, dated day by day, across four departments and an opted-out
// one: replies within and across departments, silent leaders, an outsider in
// the Open space, a person in two departments. The manager counts it from its
// stream while it comes and restarts in the middle of the week, a day of talk
// happening while it is down. Every figure in status, in the metrics and in
// the report (collabctl report's reading of the rooms' history) equals the
// generator's own count, and figures resting on fewer than five people are
// suppressed everywhere. (The organisation's open share counts the suite's
// other tests' talk too: TestInsightsCountWhatPeopleSaid checks it.)
func TestAKnownWeekAcrossFourDepartments(t *testing.T) {
	ctx := context.Background()
	forumServer, forumBackend := weekForum(t)
	who := map[string]*matrixuser.User{}
	for _, d := range weekOrg {
		for _, talkers := range d.talk {
			for _, p := range append(talkers, d.owners...) {
				if who[p] != nil {
					continue
				}
				id, token, err := homeserver.RegisterUser(ctx, p, password(p), false)
				if err != nil {
					t.Fatal(err)
				}
				who[p] = matrixuser.New(homeserver.URL, id, token)
				forumServer.AddUser(p) // a forum account, which the operator puts in its groups
			}
		}
	}
	rooms := map[string]string{} // "ns/room" -> room id
	categories := map[string]int64{}
	for _, d := range weekOrg {
		space := weekSpace(d, forumBackend)
		space = ready(t, space)
		categories[d.ns] = space.Status.Forum.Categories[0].ID
		for _, r := range space.Status.Chat.Rooms {
			rooms[d.ns+"/"+r.Name] = r.RoomID
		}
		for room, talkers := range d.talk {
			for _, p := range talkers {
				// Their own department's space, or an Open one; a shared
				// room is open to the other department's space's members.
				ids := []string{rooms[d.ns+"/"+room]}
				if d.open || slices.Contains(append(slices.Clone(d.owners), d.others...), p) {
					ids = append([]string{space.Status.Chat.SpaceID}, ids...)
				}
				for _, id := range ids {
					if err := joinWhenInvited(ctx, who[p], id); err != nil {
						t.Fatalf("%s cannot join %s of %s: %v", p, room, d.ns, err)
					}
				}
			}
		}
	}

	lines := playWeek()
	today := insights.DayOf(time.Now())
	ids := make([]string, len(lines))
	play := func(from, to int) { // lines dated from..to days ago
		t.Helper()
		for i, l := range lines {
			if l.daysAgo > from || l.daysAgo < to {
				continue
			}
			answers := ""
			if l.answers >= 0 {
				answers = ids[l.answers]
			}
			at := (today - insights.Day(l.daysAgo)).Start().Add(8*time.Hour + time.Duration(i)*time.Second)
			id, err := who[l.person].SayAt(ctx, rooms[weekOrg[l.dept].ns+"/"+l.room], fmt.Sprintf("line %d", i), answers, at)
			if err != nil {
				t.Fatalf("%s cannot say line %d: %v", l.person, i, err)
			}
			ids[i] = id
		}
	}
	upTo := func(daysAgo int) []weekLine { // what was said by then; lines not yet said are dropped
		var out []weekLine
		for _, l := range lines {
			if l.daysAgo >= daysAgo {
				out = append(out, l)
			} else {
				out = append(out, weekLine{daysAgo: math.MaxInt32, dept: l.dept, room: l.room, answers: -1})
			}
		}
		return out
	}

	play(9, 2)
	weekInStatus(t, upTo(2), nil)
	whileStopped(t, func() { play(1, 1) })
	play(0, 0)
	forum := playForum()
	topics := make([]int64, len(forum))
	for i, l := range forum {
		if l.topic < 0 {
			topics[i] = forumServer.post(t, l.person, "/api/v3/topics",
				map[string]any{"cid": categories[weekOrg[l.dept].ns], "title": fmt.Sprintf("topic %d", i), "content": "what shall we do?"})
		} else {
			forumServer.post(t, l.person, fmt.Sprintf("/api/v3/topics/%d", topics[l.topic]), map[string]any{"content": "this, I think"})
		}
	}
	weekInStatus(t, lines, forum)

	week := forumTruth(weekTruth(lines, 7, insights.DefaultMinPeople), forum, insights.DefaultMinPeople)
	month := forumTruth(weekTruth(lines, 30, insights.DefaultMinPeople), forum, insights.DefaultMinPeople)
	for name, want := range map[string]insights.Report{"7d": week, "30d": month} {
		weekInMetrics(t, name, want)
	}
	in, err := insightsread.Read(ctx, k8s, insights.LastDays(time.Now(), 30).From,
		insightsread.Options{Chat: &matrix.Connector{}, Forum: engines.Forum(), CredentialsNamespace: operatorNamespace})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		days int
		want insights.Report
	}{"7 days": {7, week}, "30 days": {30, month}} {
		got := insights.Compute(in.Org, in.Messages, insights.LastDays(time.Now(), tc.days), insights.DefaultMinPeople)
		insights.CountPosts(&got, in.Org, in.Posts, insights.LastDays(time.Now(), tc.days), insights.DefaultMinPeople)
		for key, w := range tc.want.Spaces {
			if diff := cmp.Diff(w, got.Spaces[key]); diff != "" {
				t.Errorf("the report's %s over %s (-truth +report):\n%s", key, name, diff)
			}
		}
		if _, ok := got.Spaces["wk-legal/legal"]; ok {
			t.Errorf("the report has figures of legal, which opted out")
		}
		// The suite's other tests talk too: the cells of this week's
		// departments are compared (none of its outsiders answers another).
		answers := map[string]map[string]insights.Figure{}
		for from, row := range got.Answers {
			for to, f := range row {
				if strings.HasPrefix(from, "wk-") || strings.HasPrefix(to, "wk-") {
					if answers[from] == nil {
						answers[from] = map[string]insights.Figure{}
					}
					answers[from][to] = f
				}
			}
		}
		if diff := cmp.Diff(tc.want.Answers, answers); diff != "" {
			t.Errorf("the report's who answers whom over %s (-truth +report):\n%s", name, diff)
		}
	}
}

// weekSpace is the department's CollaborationSpace, with a category in the
// shared forum.
func weekSpace(d weekDept, forum string) *collabv1.CollaborationSpace {
	visibility := collabv1.VisibilityDepartment
	if d.open {
		visibility = collabv1.VisibilityOpen
	}
	name := strings.TrimPrefix(d.ns, "wk-")
	s := space(d.ns, name, visibility, "")
	s.Spec.Members = nil
	for _, p := range d.owners {
		s.Spec.Members = append(s.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: p, Role: collabv1.RoleOwner})
	}
	for _, p := range d.others {
		s.Spec.Members = append(s.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: p, Role: collabv1.RoleMember})
	}
	for _, room := range slices.Sorted(maps.Keys(d.talk)) {
		r := collabv1.Room{Name: room}
		if ns := d.sharedWith[room]; ns != "" {
			r.SharedWith = []collabv1.SpaceReference{{Namespace: ns, Name: strings.TrimPrefix(ns, "wk-")}}
		}
		s.Spec.Chat.Rooms = append(s.Spec.Chat.Rooms, r)
	}
	if d.optedOut {
		s.Spec.Insights = &collabv1.SpaceInsights{Enabled: ptr.To(false)}
	}
	s.Spec.Forum = &collabv1.ForumSpec{BackendRef: &collabv1.LocalObjectReference{Name: forum},
		Categories: []collabv1.Category{{Name: "questions"}}}
	return s
}

// weekForumToken is the master token of the week's forum.
const weekForumToken = "week-forum-token"

// weekNodeBB is the week's shared forum: the in-repo NodeBB stand-in (the
// forum contract suite holds it to a real NodeBB's API).
type weekNodeBB struct{ *fake.Server }

// weekForum starts the forum and makes its ForumBackend.
func weekForum(t *testing.T) (weekNodeBB, string) {
	t.Helper()
	srv := fake.NewServer(weekForumToken)
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ctx := context.Background()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "week-forum-credentials", Namespace: operatorNamespace},
		Data: map[string][]byte{"token": []byte(weekForumToken), "uid": []byte("1")}}
	backend := &collabv1.ForumBackend{ObjectMeta: metav1.ObjectMeta{Name: "week-forum"},
		Spec: collabv1.ForumBackendSpec{NodeBB: &collabv1.NodeBBBackend{URL: srv.URL(),
			CredentialsSecretRef: collabv1.SecretReference{Namespace: operatorNamespace, Name: secret.Name}}}}
	for _, o := range []client.Object{secret, backend} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), o) })
	}
	return weekNodeBB{srv}, backend.Name
}

// post calls the forum's API as a person (the master token acting for their
// account) and returns the tid it answers, if any.
func (f weekNodeBB) post(t *testing.T, person, path string, body map[string]any) int64 {
	t.Helper()
	uid := f.AddUser(person) // their existing account
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s%s?_uid=%d", f.URL(), path, uid), bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+weekForumToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var env struct {
		Response struct {
			TID int64 `json:"tid"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s posts to %s: HTTP %d, %v", person, path, resp.StatusCode, err)
	}
	return env.Response.TID
}

// joinWhenInvited joins a room, waiting for the operator's invitation where
// one is needed (a shared room is opened to the other department a pass
// after its own).
func joinWhenInvited(ctx context.Context, u *matrixuser.User, roomID string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := u.Join(ctx, roomID)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// weekInStatus waits until each department's status.insights shows the
// figures the lines and forum posts make over the last 7 and 30 days, and
// legal's none.
func weekInStatus(t *testing.T, lines []weekLine, forum []forumLine) {
	t.Helper()
	want := map[string][2]collabv1.InsightsWindow{}
	week := forumTruth(weekTruth(lines, 7, insights.DefaultMinPeople), forum, insights.DefaultMinPeople)
	month := forumTruth(weekTruth(lines, 30, insights.DefaultMinPeople), forum, insights.DefaultMinPeople)
	for key, f := range week.Spaces {
		want[key] = [2]collabv1.InsightsWindow{asStatus(f), asStatus(month.Spaces[key])}
	}
	wait.Eventually(t, 2*time.Minute, "the known week's figures in the departments' status", func() (bool, string) {
		for _, d := range weekOrg {
			space := &collabv1.CollaborationSpace{}
			ns, name, _ := strings.Cut(d.key(), "/")
			if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, space); err != nil {
				return false, err.Error()
			}
			got := space.Status.Insights
			w, counted := want[d.key()]
			switch {
			case !counted && got != nil:
				return false, fmt.Sprintf("%s opted out, yet its status has %+v", name, got)
			case !counted:
			case got == nil:
				return false, name + " has no status.insights yet"
			case !cmp.Equal(w[0], got.Week) || !cmp.Equal(w[1], got.Month):
				return false, fmt.Sprintf("%s's status.insights (-truth +status):\nweek %s\nmonth %s", name,
					cmp.Diff(w[0], got.Week), cmp.Diff(w[1], got.Month))
			}
		}
		return true, ""
	})
}

// asStatus is how status shows a window's figures: counts, whole percents,
// and the names of those suppressed.
func asStatus(f insights.SpaceFigures) collabv1.InsightsWindow {
	var w collabv1.InsightsWindow
	set := func(name string, fig insights.Figure, scale float64, field **int32) {
		if fig.Suppressed {
			w.Suppressed = append(w.Suppressed, name)
			return
		}
		*field = ptr.To(int32(math.Round(fig.Value * scale)))
	}
	set("activePeople", f.ActivePeople, 1, &w.ActivePeople)
	set("breadth", f.Breadth, 100, &w.BreadthPercent)
	set("crossAnswers", f.CrossAnswers, 1, &w.CrossAnswers)
	set("leaders", f.Leaders, 100, &w.LeadersPercent)
	set("messages", f.Messages, 1, &w.Messages)
	set("reach", f.Reach, 1, &w.Reach)
	set("reachShare", f.ReachShare, 100, &w.ReachSharePercent)
	if f.Forum != nil {
		set("forumPosts", f.Forum.Posts, 1, &w.ForumPosts)
		set("forumTopics", f.Forum.Topics, 1, &w.ForumTopics)
	}
	slices.Sort(w.Suppressed)
	return w
}

// weekInMetrics checks the manager's insights series of the departments over
// a window against the truth: every figure shown has its series with its
// value, and a suppressed one has none.
func weekInMetrics(t *testing.T, window string, want insights.Report) {
	t.Helper()
	got := gauges(t, "collab_space_insight", window)
	for key, f := range want.Spaces {
		ns, name, _ := strings.Cut(key, "/")
		figures := map[string]insights.Figure{"messages": f.Messages, "activePeople": f.ActivePeople,
			"breadth": f.Breadth, "reach": f.Reach, "reachShare": f.ReachShare, "crossAnswers": f.CrossAnswers, "leaders": f.Leaders}
		if f.Forum != nil {
			figures["forumTopics"], figures["forumPosts"] = f.Forum.Topics, f.Forum.Posts
		}
		for fig, v := range figures {
			s := series(map[string]string{"namespace": ns, "space": name, "figure": fig})
			value, ok := got[s]
			switch {
			case v.Suppressed && ok:
				t.Errorf("collab_space_insight{%s,window=%s} = %v, want no series: it rests on %d people", s, window, value, v.People)
			case !v.Suppressed && (!ok || math.Abs(value-v.Value) > 1e-9):
				t.Errorf("collab_space_insight{%s,window=%s} = %v (present %v), want %v", s, window, value, ok, v.Value)
			}
		}
	}
	answers := gauges(t, "collab_department_answers", window)
	for from, row := range want.Answers {
		for to, v := range row {
			value, ok := answers[series(map[string]string{"from": from, "to": to})]
			switch {
			case v.Suppressed && ok:
				t.Errorf("collab_department_answers{%s→%s, %s} = %v, want no series: it rests on %d people", from, to, window, value, v.People)
			case !v.Suppressed && (!ok || value != v.Value):
				t.Errorf("collab_department_answers{%s→%s, %s} = %v (present %v), want %v", from, to, window, value, ok, v.Value)
			}
		}
	}
}

// gauges are a metric's series over a window, by their other labels
// (series).
func gauges(t *testing.T, metric, window string) map[string]float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range families {
		if mf.GetName() != metric {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["window"] == window {
				delete(labels, "window")
				out[series(labels)] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// series names a series by its labels, in their names' order.
func series(labels map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}
