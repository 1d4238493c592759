package managerbench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"

	"github.com/opencommons/collab-operator/hack/bench/benchkit"
)

// restartResult is what a restart costs at scale: a new manager's first pass
// over every space it serves, which finds everything in place.
type restartResult struct {
	firstPass          time.Duration
	peakRSS, peakAnon  uint64
	passes             float64
	writesByKind       string
	managerWriteMethod map[string]float64
}

// measureRestart restarts the manager and samples its resident set until it
// has passed over every served space once and its queue is empty.
func measureRestart(ctx context.Context, rig *managerRig, apiserver rest.Interface, served int,
	timeout time.Duration) (restartResult, error) {
	var res restartResult
	before, err := benchkit.WritesByKind(ctx, apiserver)
	if err != nil {
		return res, err
	}
	benchkit.Progress("scale: restarting the manager")
	start := time.Now()
	if err := rig.restart(ctx); err != nil {
		return res, err
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	var peak, peakAnon atomic.Uint64
	go sampleRSS(sampleCtx, rig.mgr.cmd.Process.Pid, &peak, &peakAnon)
	go scrapeMetrics(sampleCtx, rig.mgr.metrics, metricsScrapeInterval)
	for {
		passes, depth, err := spacePasses(ctx, rig.mgr.metrics)
		if err != nil {
			return res, fmt.Errorf("cannot read the restarted manager's metrics: %w", err)
		}
		if passes >= float64(served) && depth == 0 {
			res.passes = passes
			break
		}
		if time.Since(start) > timeout {
			return res, fmt.Errorf("the restarted manager passed over %.0f of %d spaces in %s (%.0f queued)",
				passes, served, timeout, depth)
		}
		if err := benchkit.Sleep(ctx, time.Second); err != nil {
			return res, err
		}
	}
	res.firstPass = time.Since(start)
	if err := benchkit.Sleep(ctx, 2*time.Second); err != nil {
		return res, err
	}
	after, err := benchkit.WritesByKind(ctx, apiserver)
	if err != nil {
		return res, err
	}
	res.writesByKind = benchkit.WritesTable(before, after, 0, served)
	if res.managerWriteMethod, err = requestsByMethod(ctx, rig.mgr.metrics); err != nil {
		return res, err
	}
	stopSampling()
	res.peakRSS, res.peakAnon = max(peak.Load(), benchkit.PeakRSS(rig.mgr.cmd.Process.Pid)), peakAnon.Load()
	return res, nil
}

// spacePasses reads from the manager's metrics how many passes over spaces it
// made and how many wait in its queue.
func spacePasses(ctx context.Context, addr string) (passes, depth float64, err error) {
	err = scanMetrics(ctx, addr, func(line string) {
		if !strings.Contains(line, `controller="collaborationspace"`) {
			return
		}
		_, value, _ := strings.Cut(line, "} ")
		n, _ := strconv.ParseFloat(value, 64)
		switch {
		case strings.HasPrefix(line, "controller_runtime_reconcile_total{"):
			passes += n
		case strings.HasPrefix(line, "workqueue_depth{"):
			depth += n
		}
	})
	return passes, depth, err
}

func (r restartResult) markdown() string {
	var b strings.Builder
	b.WriteString("\nAfter a restart of the manager (its first pass over every space it serves):\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| first pass over all, from the restart | %s (%.0f passes) |\n", r.firstPass.Round(time.Second), r.passes)
	fmt.Fprintf(&b, "| manager peak RSS / anonymous (sampled each second) | %s / %s |\n", benchkit.MiB(r.peakRSS), benchkit.MiB(r.peakAnon))
	writes := r.managerWriteMethod["POST"] + r.managerWriteMethod["PUT"] + r.managerWriteMethod["PATCH"] + r.managerWriteMethod["DELETE"]
	fmt.Fprintf(&b, "| the new manager's writes (POST, PUT, PATCH, DELETE; leader election's included) | %.0f |\n\n", writes)
	b.WriteString(r.writesByKind)
	return b.String()
}
