package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// streamResult is what keeping rooms true costs and how fast it is, once every
// space is Ready (issue 12): Matrix requests per minute while nothing changes,
// how long a change made by hand stays, and how long a spec edit takes to reach
// Matrix.
type streamResult struct {
	Window      time.Duration
	Idle        []benchkit.OpStat
	Drift, Edit []time.Duration
	// Share is, per share probe, how long after a space turned Ready its member
	// could join a room another space shares with it (share.go).
	Share         []time.Duration
	Rooms, Probes int
	// Flood is what a flood of display name changes cost (flood.go).
	Flood floodResult
}

// measureStream runs after convergence, with the manager still running: it counts
// the requests of an idle window, then, on a space of its own whose Owner is a
// person of the bench, times probes hand-made topic changes and as many spec
// edits.
func measureStream(ctx context.Context, c client.Client, hs *dendrite.Server, w benchkit.Workload,
	opsNow func() []benchkit.OpStat, o options) (streamResult, error) {
	res := streamResult{Window: o.streamWindow, Rooms: w.TotalRooms(), Probes: o.probes}
	benchkit.Progress("stream: %s idle window over %d rooms", o.streamWindow, w.TotalRooms())
	before := opsNow()
	if err := benchkit.Sleep(ctx, o.streamWindow); err != nil {
		return res, err
	}
	res.Idle = subtract(opsNow(), before)

	id, token, err := hs.RegisterUser(ctx, "drifter", "password-drifter", false)
	if err != nil {
		return res, err
	}
	drifter := matrixuser.New(hs.URL, id, token)
	space := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "drift", Namespace: "bench-drift"},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: "Drift", Visibility: collabv1.VisibilityDepartment,
			Members: []collabv1.Member{{Kind: collabv1.SubjectUser, Name: "drifter", Role: collabv1.RoleOwner}},
			Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: benchBackend},
				Rooms: []collabv1.Room{{Name: "general", Topic: "kept"}}},
		},
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: space.Namespace}}); err != nil {
		return res, err
	}
	if err := c.Create(ctx, space); err != nil {
		return res, err
	}
	room, err := waitRoom(ctx, c, space)
	if err != nil {
		return res, err
	}
	if err := drifter.Join(ctx, room); err != nil {
		return res, fmt.Errorf("the drifter cannot join: %w", err)
	}
	benchkit.Progress("stream: %d hand-made changes, then %d spec edits", o.probes, o.probes)
	if res.Drift, err = timeDrift(ctx, drifter, room, o.probes); err != nil {
		return res, err
	}
	if res.Edit, err = timeEdits(ctx, c, space, drifter, room, o.probes); err != nil {
		return res, err
	}
	if o.floodWindow > 0 {
		if res.Flood, err = measureFlood(ctx, drifter, o.floodWindow, o.floodClients, opsNow); err != nil {
			return res, err
		}
	}
	benchkit.Progress("stream: %d share probes", o.shareProbes)
	res.Share, err = measureShare(ctx, c, hs, o.shareProbes)
	return res, err
}

// timeDrift changes the room's topic by hand n times and times how long each
// change stays before the operator puts "kept" back.
func timeDrift(ctx context.Context, drifter *matrixuser.User, room string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := range n {
		if err := drifter.SetTopic(ctx, room, fmt.Sprintf("changed by hand %d", i)); err != nil {
			return out, err
		}
		d, err := waitTopic(ctx, drifter, room, "kept")
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// timeEdits edits the room's topic in the space's spec n times and times each
// until the room has it.
func timeEdits(ctx context.Context, c client.Client, space *collabv1.CollaborationSpace, drifter *matrixuser.User,
	room string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := range n {
		topic := fmt.Sprintf("edited %d", i)
		start := time.Now()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := c.Get(ctx, client.ObjectKeyFromObject(space), space); err != nil {
				return err
			}
			space.Spec.Chat.Rooms[0].Topic = topic
			return c.Update(ctx, space)
		})
		if err != nil {
			return out, err
		}
		if _, err := waitTopic(ctx, drifter, room, topic); err != nil {
			return out, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

func waitRoom(ctx context.Context, c client.Client, space *collabv1.CollaborationSpace) (string, error) {
	for ctx.Err() == nil {
		if err := c.Get(ctx, client.ObjectKeyFromObject(space), space); err == nil && benchkit.IsReady(space) &&
			space.Status.Chat != nil && len(space.Status.Chat.Rooms) == 1 {
			return space.Status.Chat.Rooms[0].RoomID, nil
		}
		_ = benchkit.Sleep(ctx, 100*time.Millisecond)
	}
	return "", ctx.Err()
}

// waitTopic polls the room's topic every 20ms until it is want.
func waitTopic(ctx context.Context, u *matrixuser.User, room, want string) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(time.Minute)
	for time.Now().Before(deadline) {
		var t struct {
			Topic string `json:"topic"`
		}
		if err := u.State(ctx, room, "m.room.topic", &t); err == nil && t.Topic == want {
			return time.Since(start), nil
		}
		if err := benchkit.Sleep(ctx, 20*time.Millisecond); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("topic not %q after a minute", want)
}

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func (r streamResult) markdown() string {
	if r.Window == 0 {
		return ""
	}
	var reads, writes, syncs int64
	for _, o := range r.Idle {
		switch {
		case o.Op == "sync":
			syncs += o.Count
		case o.IsWrite():
			writes += o.Count
		default:
			reads += o.Count
		}
	}
	perMin := func(n int64) float64 { return float64(n) / r.Window.Minutes() }
	return fmt.Sprintf("### Keeping rooms true: the event stream\n\n"+
		"| measure | value |\n|---|---:|\n"+
		"| rooms kept | %d |\n| idle window | %s |\n"+
		"| Matrix requests per minute, sync long-polls | %.1f |\n"+
		"| Matrix requests per minute, everything else (reads / writes) | %.1f / %.1f |\n"+
		"| hand-made topic change put back, p50 / p99 (%d changes) | %s / %s |\n"+
		"| spec edit on Matrix, p50 / p99 (%d edits) | %s / %s |\n"+
		"| shared room joinable after the space it is shared with turned Ready, p50 / p99 (%d probes) | %s / %s |\n\n",
		r.Rooms, r.Window, perMin(syncs), perMin(reads), perMin(writes),
		len(r.Drift), percentile(r.Drift, 50).Round(time.Millisecond), percentile(r.Drift, 99).Round(time.Millisecond),
		len(r.Edit), percentile(r.Edit, 50).Round(time.Millisecond), percentile(r.Edit, 99).Round(time.Millisecond),
		len(r.Share), percentile(r.Share, 50).Round(time.Millisecond), percentile(r.Share, 99).Round(time.Millisecond)) +
		r.Flood.markdown()
}
