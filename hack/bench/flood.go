package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// floodResult is what a flood of display name changes costs (issue 19, finding
// 3): a display name change is an m.room.member event in every room the person
// is in, each of which wakes the space. Changes in is what the clients got
// through; passes and Matrix requests out are the operator's, over the same
// window plus the settling after it.
type floodResult struct {
	Window, Measured time.Duration
	Clients          int
	Changes          int64
	Passes           int
	Requests         int64
}

// measureFlood has the drift space's Owner change their display name from
// clients goroutines as fast as the server answers, for window, and counts the
// space's passes and the operator's Matrix requests besides /sync until the
// operator has been quiet for 3 s after the flood (wake-ups coalesce per second).
func measureFlood(ctx context.Context, u *matrixuser.User, window time.Duration, clients int,
	opsNow func() []benchkit.OpStat) (floodResult, error) {
	res := floodResult{Window: window, Clients: clients}
	benchkit.Progress("flood: %d clients change a display name for %s", clients, window)
	opsBefore, passesBefore := opsNow(), reconcilePasses()
	start := time.Now()
	floodCtx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	var changes atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; floodCtx.Err() == nil; i++ {
				if u.SetDisplayName(floodCtx, fmt.Sprintf("drifter %d.%d", c, i)) == nil {
					changes.Add(1)
				}
			}
		})
	}
	wg.Wait()
	settle(ctx, func() int64 { return requestsBesidesSync(subtract(opsNow(), opsBefore)) }, 3*time.Second, time.Minute)
	res.Measured = time.Since(start)
	res.Changes = changes.Load()
	res.Passes = sum(subtractPasses(reconcilePasses(), passesBefore)["collaborationspace"])
	res.Requests = requestsBesidesSync(subtract(opsNow(), opsBefore))
	return res, ctx.Err()
}

func requestsBesidesSync(ops []benchkit.OpStat) int64 {
	var n int64
	for _, o := range ops {
		if o.Op != "sync" {
			n += o.Count
		}
	}
	return n
}

func (r floodResult) markdown() string {
	if r.Window == 0 {
		return ""
	}
	per := func(n float64) float64 { return n / r.Measured.Seconds() }
	return fmt.Sprintf("### A flood of display name changes\n\n"+
		"| measure | value |\n|---|---:|\n"+
		"| clients, flood | %d, %s |\n| changes in (per s of flood) | %d (%.1f) |\n"+
		"| measured (flood + settling) | %s |\n| space passes (per s) | %d (%.2f) |\n"+
		"| Matrix requests besides /sync (per s) | %d (%.1f) |\n\n",
		r.Clients, r.Window, r.Changes, float64(r.Changes)/r.Window.Seconds(), r.Measured.Round(100*time.Millisecond),
		r.Passes, per(float64(r.Passes)), r.Requests, per(float64(r.Requests)))
}
