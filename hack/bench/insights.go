package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers/openness"
	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// insightsResult is what computing the openness insights costs (issue 21): the
// manager reads every room's history each --insights-interval.
type insightsResult struct {
	Spaces, Rooms, Messages int
	// Talk is how long the people took to say the messages.
	Talk time.Duration
	// First is the refresh that found the messages; Again the next one, with
	// nothing new.
	First, Again refreshCost
}

// refreshCost is one refresh of the insights.
type refreshCost struct {
	Wall     time.Duration
	CPU      time.Duration // the bench process's, the refresh in it
	Requests []benchkit.OpStat
	// Alloc is what the refresh allocated; Retained the heap it left in use
	// after a collection, beyond what was in use before.
	Alloc, Retained uint64
}

// measureInsights has each space's Owner say perRoom messages in every room
// of the space (each answering the one before), then runs the manager's
// insights refresher twice, counting its Matrix requests, time and memory.
func measureInsights(ctx context.Context, c client.Client, hs *dendrite.Server, w benchkit.Workload,
	probe benchkit.CPUProbe, perRoom int) (insightsResult, error) {
	res := insightsResult{Spaces: w.Spaces, Rooms: w.TotalRooms()}
	benchkit.Progress("insights: %d messages in each room of %d spaces", perRoom, w.Spaces)
	start := time.Now()
	n, err := talk(ctx, c, hs, w, perRoom)
	if err != nil {
		return res, err
	}
	res.Messages, res.Talk = n, time.Since(start)
	for _, cost := range []*refreshCost{&res.First, &res.Again} {
		if *cost, err = refreshOnce(ctx, c, probe); err != nil {
			return res, err
		}
	}
	return res, nil
}

// talk has each space's Owner join its space and rooms and say perRoom
// messages in each, each answering the one before.
func talk(ctx context.Context, c client.Client, hs *dendrite.Server, w benchkit.Workload, perRoom int) (int, error) {
	owners := map[string]*matrixuser.User{}
	said := 0
	for i := range w.Spaces {
		space := &collabv1.CollaborationSpace{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: w.Namespace(i), Name: w.SpaceName(i)}, space); err != nil {
			return said, err
		}
		lp := w.OwnerLocalpart(i)
		owner := owners[lp]
		if owner == nil {
			var err error
			if owner, err = matrixuser.Login(ctx, hs.URL, lp, "password-"+lp); err != nil {
				return said, err
			}
			owners[lp] = owner
		}
		if err := owner.Join(ctx, space.Status.Chat.SpaceID); err != nil {
			return said, err
		}
		for _, room := range space.Status.Chat.Rooms {
			if err := owner.Join(ctx, room.RoomID); err != nil {
				return said, err
			}
			last := ""
			for range perRoom {
				id, err := owner.Say(ctx, room.RoomID, "bench", last)
				if err != nil {
					return said, err
				}
				last = id
				said++
			}
		}
	}
	return said, nil
}

// refreshOnce runs one refresh as the manager does and measures it.
func refreshOnce(ctx context.Context, c client.Client, probe benchkit.CPUProbe) (refreshCost, error) {
	var stats benchkit.OpStats
	r := &openness.Refresher{Client: c, Chat: &matrix.Connector{Observer: stats.Observe},
		CredentialsNamespace: benchkit.OperatorNamespace, Interval: time.Hour}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0, start := probe.Sample(), time.Now()
	if _, err := r.Refresh(ctx, time.Now()); err != nil {
		return refreshCost{}, err
	}
	cost := refreshCost{Wall: time.Since(start)}
	cost.CPU = probe.Sample().Since(cpu0, cost.Wall).Self
	runtime.ReadMemStats(&after)
	cost.Alloc = after.TotalAlloc - before.TotalAlloc
	runtime.GC()
	runtime.ReadMemStats(&after)
	cost.Retained = after.HeapInuse - min(after.HeapInuse, before.HeapInuse)
	cost.Requests = stats.Snapshot()
	return cost, nil
}

func (r insightsResult) markdown() string {
	if r.Rooms == 0 {
		return ""
	}
	row := func(what string, f func(refreshCost) string) string {
		return fmt.Sprintf("| %s | %s | %s |\n", what, f(r.First), f(r.Again))
	}
	requests := func(c refreshCost) string {
		var kinds []string
		for _, o := range c.Requests {
			kinds = append(kinds, fmt.Sprintf("%d %s %s", o.Count, o.Method, o.Op))
		}
		return fmt.Sprintf("%d (%s)", benchkit.Total(c.Requests), strings.Join(kinds, ", "))
	}
	perMinute := func(c refreshCost) string { return fmt.Sprintf("%.1f", float64(benchkit.Total(c.Requests))/60) }
	rate := func(c refreshCost) string {
		return fmt.Sprintf("%.0f", float64(r.Messages)/c.Wall.Seconds())
	}
	return fmt.Sprintf("### The openness insights: one refresh over every room's history\n\n"+
		"%d messages in the rooms of %d spaces (%d rooms with their space rooms), said in %s.\n\n| measure | first refresh | next refresh (nothing new) |\n|---|---:|---:|\n",
		r.Messages, r.Spaces, r.Rooms, r.Talk.Round(time.Second)) +
		row("wall time", func(c refreshCost) string { return c.Wall.Round(time.Millisecond).String() }) +
		row("manager CPU", func(c refreshCost) string { return c.CPU.Round(time.Millisecond).String() }) +
		row("Matrix requests", requests) +
		row("Matrix requests per minute at --insights-interval=1h", perMinute) +
		row("messages counted per second", rate) +
		row("allocated / heap retained", func(c refreshCost) string {
			return benchkit.MiB(c.Alloc) + " / " + benchkit.MiB(c.Retained)
		}) + "\n"
}
