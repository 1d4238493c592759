package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/livecount"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// insightsResult is what counting the openness insights costs (issue 21). The
// stream the operator holds carries the messages, so it is measured A/B: the
// same traffic, the stream without counting (Off) and with it (On), after the
// counts read every room's past once, as a (re)started manager does (Past).
type insightsResult struct {
	Spaces, Rooms int
	// Rate is the messages per second asked of the traffic generator, Window
	// how long each side ran.
	Rate   float64
	Window time.Duration
	Off    streamRun
	On     streamRun
	Past   pastFill
	// Entries and Heap are the tally's counts and the heap the counts keep
	// after the On run (a collection before and after).
	Entries int
	Heap    uint64
}

// streamRun is one side: the stream for Window while people talk.
type streamRun struct {
	Sent    int
	Counted int
	// Requests are the stream's Matrix requests (and the counts' own).
	Requests []benchkit.OpStat
	// CPU is the bench process's (the stream, the counts, and the same traffic
	// generator on both sides) and Dendrite's.
	CPU, Dendrite time.Duration
}

// pastFill is reading every room's past once.
type pastFill struct {
	// Counts are the tally's counts the past made.
	Counts   int
	Wall     time.Duration
	Requests []benchkit.OpStat
}

// speaker is a person who talks in a room.
type speaker struct {
	user *matrixuser.User
	room string
}

// measureInsights has each space's Owner join its rooms, then measures the
// stream for window while the Owners say rate messages a second between them,
// first without counting, then with.
func measureInsights(ctx context.Context, c client.Client, hs *dendrite.Server, token string, w benchkit.Workload,
	probe benchkit.CPUProbe, rate float64, window time.Duration) (insightsResult, error) {
	res := insightsResult{Spaces: w.Spaces, Rate: rate, Window: window}
	speakers, err := joinOwners(ctx, c, hs, w)
	if err != nil {
		return res, err
	}
	res.Rooms = len(speakers)
	for _, on := range []bool{false, true} {
		var stats benchkit.OpStats
		mc, err := matrix.New(matrix.Config{HomeserverURL: hs.URL, ServerName: hs.ServerName, AccessToken: token, Observer: stats.Observe})
		if err != nil {
			return res, err
		}
		var counter *livecount.Counter
		var heapBefore uint64
		first, err := mc.Sync(ctx, "", 0)
		if err != nil {
			return res, err
		}
		if on {
			heapBefore = heapInUse()
			counter = &livecount.Counter{Backend: "bench", Reader: mc}
			if res.Past, err = fillPast(ctx, counter, first.Next, speakers, &stats); err != nil {
				return res, err
			}
		}
		benchkit.Progress("insights: %s, %.0f messages/s for %s", map[bool]string{false: "stream without counting", true: "stream counting"}[on], rate, window)
		run, err := streamWhileTalking(ctx, mc, counter, first.Next, speakers, probe, rate, window, &stats)
		if err != nil {
			return res, err
		}
		if on {
			res.On = run
			res.Entries = counter.Tally().Entries()
			res.Heap = heapInUse() - min(heapInUse(), heapBefore)
			runtime.KeepAlive(counter)
		} else {
			res.Off = run
		}
	}
	return res, nil
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// joinOwners has each space's Owner join its space and rooms.
func joinOwners(ctx context.Context, c client.Client, hs *dendrite.Server, w benchkit.Workload) ([]speaker, error) {
	owners := map[string]*matrixuser.User{}
	var out []speaker
	for i := range w.Spaces {
		space := &collabv1.CollaborationSpace{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: w.Namespace(i), Name: w.SpaceName(i)}, space); err != nil {
			return nil, err
		}
		lp := w.OwnerLocalpart(i)
		if owners[lp] == nil {
			u, err := matrixuser.Login(ctx, hs.URL, lp, "password-"+lp)
			if err != nil {
				return nil, err
			}
			owners[lp] = u
		}
		if err := owners[lp].Join(ctx, space.Status.Chat.SpaceID); err != nil {
			return nil, err
		}
		for _, room := range space.Status.Chat.Rooms {
			if err := owners[lp].Join(ctx, room.RoomID); err != nil {
				return nil, err
			}
			out = append(out, speaker{user: owners[lp], room: room.RoomID})
		}
	}
	return out, nil
}

// fillPast begins the counts at the stream's position and reads every room's
// past, as a starting manager does.
func fillPast(ctx context.Context, counter *livecount.Counter, position string, speakers []speaker,
	stats *benchkit.OpStats) (pastFill, error) {
	before := stats.Snapshot()
	start := time.Now()
	counter.Begin(ctx, position)
	rooms := make([]string, len(speakers))
	for i, s := range speakers {
		rooms[i] = s.room
	}
	for {
		if ready, _ := counter.Need(rooms); ready {
			break
		}
		if err := benchkit.Sleep(ctx, 50*time.Millisecond); err != nil {
			return pastFill{}, err
		}
	}
	return pastFill{Counts: counter.Tally().Entries(), Wall: time.Since(start),
		Requests: subtract(stats.Snapshot(), before)}, nil
}

// streamWhileTalking follows the stream from since as the operator's does (a
// long poll, at most one a second while batches bring nothing to act on) for
// window, while the speakers say rate messages a second in turn, each answering
// the one before in its room; with a counter, the batches carry the messages
// and are counted.
func streamWhileTalking(ctx context.Context, mc *matrix.Client, counter *livecount.Counter, since string, speakers []speaker,
	probe benchkit.CPUProbe, rate float64, window time.Duration, stats *benchkit.OpStats) (streamRun, error) {
	before := stats.Snapshot()
	cpu0, start := probe.Sample(), time.Now()
	runCtx, stop := context.WithTimeout(ctx, window)
	defer stop()
	var sent atomic.Int64
	counted := 0
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		talkAt(runCtx, speakers, rate, &sent)
	}()
	var streamErr error
	for runCtx.Err() == nil {
		polled := time.Now()
		var b chat.SyncBatch
		var err error
		if counter != nil {
			b, err = mc.SyncWithMessages(runCtx, since, 20*time.Second)
		} else {
			b, err = mc.Sync(runCtx, since, 20*time.Second)
		}
		if err != nil {
			if runCtx.Err() == nil {
				streamErr = err
			}
			break
		}
		since = b.Next
		if counter != nil {
			counter.Add(runCtx, b)
			for _, rm := range b.Messages {
				counted += len(rm.Messages)
			}
		}
		if len(b.Changed) == 0 && time.Since(polled) < time.Second {
			_ = benchkit.Sleep(runCtx, time.Second-time.Since(polled))
		}
	}
	wg.Wait()
	wall := time.Since(start)
	cpu := probe.Sample().Since(cpu0, wall)
	return streamRun{Sent: int(sent.Load()), Counted: counted, Requests: subtract(stats.Snapshot(), before),
		CPU: cpu.Self, Dendrite: cpu.Dendrite}, streamErr
}

// talkAt has the speakers say rate messages a second in turn until ctx ends,
// four at a time.
func talkAt(ctx context.Context, speakers []speaker, rate float64, sent *atomic.Int64) {
	last := make([]string, len(speakers))
	var mu sync.Mutex
	next := 0
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	slots := make(chan struct{}, 4)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case slots <- struct{}{}:
		default:
			continue // the server is behind: the rate achieved says so
		}
		mu.Lock()
		i := next % len(speakers)
		next++
		answers := last[i]
		mu.Unlock()
		go func() {
			defer func() { <-slots }()
			id, err := speakers[i].user.Say(ctx, speakers[i].room, "bench", answers)
			if err == nil {
				sent.Add(1)
				mu.Lock()
				last[i] = id
				mu.Unlock()
			}
		}()
	}
}

func (r insightsResult) markdown() string {
	if r.Rooms == 0 {
		return ""
	}
	perMin := func(ops []benchkit.OpStat) string {
		var kinds []string
		for _, o := range ops {
			kinds = append(kinds, fmt.Sprintf("%.1f %s %s", float64(o.Count)/r.Window.Minutes(), o.Method, o.Op))
		}
		return fmt.Sprintf("%.1f (%s)", float64(benchkit.Total(ops))/r.Window.Minutes(), strings.Join(kinds, ", "))
	}
	row := func(what, off, on string) string { return fmt.Sprintf("| %s | %s | %s |\n", what, off, on) }
	rate := func(s streamRun) string { return fmt.Sprintf("%.1f", float64(s.Sent)/r.Window.Seconds()) }
	cpu := func(d time.Duration) string { return fmt.Sprintf("%.1f%%", 100*d.Seconds()/r.Window.Seconds()) }
	extraCPU := (r.On.CPU - r.Off.CPU).Seconds() / r.Window.Seconds()
	achieved := float64(r.On.Sent) / r.Window.Seconds()
	pastReqs := benchkit.Total(r.Past.Requests)
	return fmt.Sprintf("### The openness insights: counted from the stream\n\n"+
		"%d rooms of %d spaces; their Owners say %.0f messages a second between them for %s a side, "+
		"each answering the one before in its room.\n\n| measure | stream alone | stream counting |\n|---|---:|---:|\n",
		r.Rooms, r.Spaces, r.Rate, r.Window) +
		row("messages said per second", rate(r.Off), rate(r.On)) +
		row("messages counted (per second)", "—", fmt.Sprintf("%d (%.1f)", r.On.Counted, float64(r.On.Counted)/r.Window.Seconds())) +
		row("Matrix requests per minute", perMin(r.Off.Requests), perMin(r.On.Requests)) +
		row("bench process CPU (stream, counts, the same generator)", cpu(r.Off.CPU), cpu(r.On.CPU)) +
		row("Dendrite CPU", cpu(r.Off.Dendrite), cpu(r.On.Dendrite)) +
		fmt.Sprintf("\nCounting's extra CPU: %.1f%% of a core, %.1f%% per 100 messages/s. "+
			"The tally after the run: %d counts, %s of heap (%s per 1,000 rooms). "+
			"Reading every room's past once (a start): %d requests for %d rooms in %s.\n\n",
			100*extraCPU, 100*extraCPU/max(achieved/100, 1e-9), r.Entries, benchkit.MiB(r.Heap),
			benchkit.MiB(uint64(float64(r.Heap)*1000/float64(max(r.Rooms, 1)))), pastReqs, r.Rooms,
			r.Past.Wall.Round(time.Millisecond))
}
