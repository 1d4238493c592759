// Package openness keeps the openness insights where people look for them: in
// each CollaborationSpace's status.insights and in the manager's metrics. The
// ChatBackends' streams count the rooms' messages as they come (sender, time and
// what a message answers, never its content; internal/livecount); the Refresher
// computes the figures of the last 7 and 30 days from those counts
// (internal/insights, which hides any figure resting on too few people) and
// writes what changed. A restarted manager's streams count the rooms' past again,
// back from where they resume, so it loses nothing.
package openness

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/insightsread"
	"github.com/opencommons/collab-operator/internal/livecount"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/statuspatch"
)

// The windows status.insights and the metrics show.
var (
	week  = window{name: "7d", days: 7}
	month = window{name: "30d", days: 30}
)

type window struct {
	name string
	days int
}

// of is the window ending now, in the whole days the counts are kept by: the
// last 7 days are today and the 6 days before.
func (w window) of(now time.Time) insights.Window { return insights.LastDays(now, w.days) }

// Refresher computes the openness insights every Interval, as a runnable of the
// manager that only the leader runs.
type Refresher struct {
	// Client lists the spaces, policies and namespaces and writes the spaces'
	// status; Secrets it reads are never cached.
	Client client.Client
	// Chat reaches the spaces' chat servers; CredentialsNamespace is where
	// their Secrets are.
	Chat                 chat.Connector
	CredentialsNamespace string
	// Interval between two refreshes.
	Interval time.Duration
	// Counters are the live counts of the ChatBackends' messages.
	Counters Counters
	// Forum reads the forums' recent posts each refresh; none when nil.
	// ForumEndpointOverride is --forum-endpoint-override.
	Forum                 forum.Engines
	ForumEndpointOverride string
}

// Counters are the live counts of the ChatBackends' messages: their streams
// (controllers/chatbackend/stream).
type Counters interface {
	// Counter is the backend's live count, nil while its stream does not count.
	Counter(backend string) *livecount.Counter
}

// pendingRetry is how soon a refresh is tried again while the rooms' past is
// still being counted (after a start, or for new rooms).
const pendingRetry = 10 * time.Second

// NeedLeaderElection implements manager.LeaderElectionRunnable: one manager
// reads the history and writes the figures.
func (r *Refresher) NeedLeaderElection() bool { return true }

// Start refreshes at once and then every Interval until ctx ends. A refresh
// that fails is logged and tried again on the next tick.
func (r *Refresher) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("insights")
	for {
		pending, err := r.Refresh(ctx, time.Now())
		if err != nil && ctx.Err() == nil {
			log.Error(err, "Cannot refresh the openness insights")
		}
		next := r.Interval
		if pending {
			next = min(next, pendingRetry)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(next):
		}
	}
}

// Refresh computes the figures as of now and writes them where they changed.
// pending says a space's rooms' past is still being counted: its figures come
// with a refresh soon.
func (r *Refresher) Refresh(ctx context.Context, now time.Time) (pending bool, err error) {
	in, err := insightsread.Read(ctx, r.Client, month.of(now).From,
		insightsread.Options{Chat: r.Chat, CredentialsNamespace: r.CredentialsNamespace, Live: r.Counters.Counter, Forum: r.Forum,
			ForumEndpointOverride: r.ForumEndpointOverride})
	if err != nil {
		return false, err
	}
	minPeople := max(insights.DefaultMinPeople, in.MinPeople)
	reports := map[window]insights.Report{}
	for _, w := range []window{week, month} {
		report := insights.CountTallies(in.Org, in.Tallies, w.of(now), minPeople)
		insights.CountPosts(&report, in.Org, in.Posts, w.of(now), minPeople)
		reports[w] = report
	}
	publish(reports)
	metrics.InsightsRefreshed.SetToCurrentTime()
	for key, why := range in.Unread {
		ctrl.LoggerFrom(ctx).Info("A space's rooms could not be read; its status.insights stays as it was", "space", key, "why", why)
	}
	incomplete := incompleteSpaces(in.Incomplete)
	var errs []error
	for i := range in.Spaces {
		space := &in.Spaces[i]
		key := space.Namespace + "/" + space.Name
		if _, unread := in.Unread[key]; unread {
			continue
		}
		var st *collabv1.InsightsStatus
		if f, ok := reports[month].Spaces[key]; ok {
			st = &collabv1.InsightsStatus{ChangedAt: metav1.NewTime(now.Truncate(time.Second)),
				Week: windowStatus(reports[week].Spaces[key]), Month: windowStatus(f), Incomplete: incomplete[key]}
		}
		// One space's write failing leaves the others' to be written.
		errs = append(errs, r.write(ctx, space, st))
	}
	return in.Pending, errors.Join(errs...)
}

// incompleteSpaces are the spaces ("namespace/name") of the rooms
// ("namespace/name/room") whose history was longer than one refresh reads.
func incompleteSpaces(rooms []string) map[string]bool {
	out := map[string]bool{}
	for _, room := range rooms {
		if i := strings.LastIndex(room, "/"); i > 0 {
			out[room[:i]] = true
		}
	}
	return out
}

// write sets status.insights unless the figures are the ones it holds: a
// refresh that finds nothing new writes nothing, and changedAt says when the
// figures it holds were computed.
func (r *Refresher) write(ctx context.Context, space *collabv1.CollaborationSpace, st *collabv1.InsightsStatus) error {
	if sameFigures(space.Status.Insights, st) {
		return nil
	}
	before := space.DeepCopy()
	space.Status.Insights = st
	return statuspatch.Patch(ctx, r.Client, before, space)
}

func sameFigures(a, b *collabv1.InsightsStatus) bool {
	if a == nil || b == nil {
		return a == b
	}
	a, b = a.DeepCopy(), b.DeepCopy()
	b.ChangedAt = a.ChangedAt
	return equality.Semantic.DeepEqual(a, b)
}

// windowStatus turns a window's figures into status: counts as they are,
// shares as whole percents, a suppressed figure left out and named.
func windowStatus(f insights.SpaceFigures) collabv1.InsightsWindow {
	var w collabv1.InsightsWindow
	for _, fig := range figuresOf(f) {
		if fig.value.Suppressed {
			w.Suppressed = append(w.Suppressed, fig.name)
			continue
		}
		v := fig.value.Value
		if fig.share {
			v *= 100
		}
		*fig.field(&w) = ptrTo(int32(math.Round(v)))
	}
	slices.Sort(w.Suppressed)
	return w
}

// figure is one of a space's figures: its name in status and in the metrics,
// whether it is a share, and where status keeps it.
type figure struct {
	name  string
	share bool
	value insights.Figure
	field func(*collabv1.InsightsWindow) **int32
}

func figuresOf(f insights.SpaceFigures) []figure {
	figures := []figure{
		{"messages", false, f.Messages, func(w *collabv1.InsightsWindow) **int32 { return &w.Messages }},
		{"activePeople", false, f.ActivePeople, func(w *collabv1.InsightsWindow) **int32 { return &w.ActivePeople }},
		{"breadth", true, f.Breadth, func(w *collabv1.InsightsWindow) **int32 { return &w.BreadthPercent }},
		{"reach", false, f.Reach, func(w *collabv1.InsightsWindow) **int32 { return &w.Reach }},
		{"reachShare", true, f.ReachShare, func(w *collabv1.InsightsWindow) **int32 { return &w.ReachSharePercent }},
		{"crossAnswers", false, f.CrossAnswers, func(w *collabv1.InsightsWindow) **int32 { return &w.CrossAnswers }},
		{"leaders", true, f.Leaders, func(w *collabv1.InsightsWindow) **int32 { return &w.LeadersPercent }},
	}
	if f.Forum != nil {
		figures = append(figures,
			figure{"forumTopics", false, f.Forum.Topics, func(w *collabv1.InsightsWindow) **int32 { return &w.ForumTopics }},
			figure{"forumPosts", false, f.Forum.Posts, func(w *collabv1.InsightsWindow) **int32 { return &w.ForumPosts }})
	}
	return figures
}

func ptrTo[T any](v T) *T { return &v }
