package managerbench

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/hack/bench/benchkit"
)

// scaleOptions are the settings of -mode scale.
type ScaleOptions struct {
	Members  int           // User members of each space
	Steady   time.Duration // how long to count writes once every space is Ready
	Creators int           // clients creating namespaces and spaces side by side
	Shards   int           // spaces are spread over this many shards; the manager is the first
	// DirectoryPeople, when not 0, are the people of a directory in groups of
	// scaleGroupSize; each space names one group as a member.
	DirectoryPeople int
	// Restart restarts the manager after the steady state and measures its
	// first pass over every space.
	Restart bool
}

// shardOf is the shard label value of space i when the run is sharded.
func (o ScaleOptions) shardOf(i int) string { return fmt.Sprintf("shard-%d", i%o.Shards) }

// served is how many of n spaces the measured manager serves: all, or the
// first shard's.
func (o ScaleOptions) served(n int) int {
	if o.Shards <= 1 {
		return n
	}
	return (n + o.Shards - 1) / o.Shards
}

// scaleResult is what -mode scale measured.
type scaleResult struct {
	spaces, members, shards        int
	byKind                         string // writesTable
	directoryPeople, withPeople    int    // with a directory: its people, the spaces that list their group's
	peakRSS, sampledPeak, readyRSS uint64
	// peakAnon and readyAnon are the anonymous part of the resident set (Go's
	// heap, stacks and runtime); the rest is the binary's pages, which the
	// kernel may drop and read again under a memory limit.
	peakAnon, readyAnon, readyFile uint64
	readyHeap                      uint64
	created, readyAfterFirst       time.Duration
	readyAfterLast                 time.Duration
	writes, steadyWrites           map[string]float64 // the manager's requests by method
	steady                         time.Duration
}

// runScale is -mode scale: how much memory and time the manager needs for many
// departments with permissions only (issue 22's measure). It starts
// kube-apiserver + etcd, runs the manager binary as main.go runs it, creates
// o.spaces namespaces each with one space of o.scale.members User members,
// samples the manager's RSS every second until every space is Ready, then counts
// its writes over o.scale.steady of steady state.
func RunScale(ctx context.Context, o Options) error {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	if o.Scale.Shards > 1 {
		managerArgs = append(managerArgs, "--watch-label-selector="+collabv1.ShardLabel+"="+o.Scale.shardOf(0))
	}
	rig, err := startManagerRig(ctx, o, "scale", 500)
	if err != nil {
		return err
	}
	defer rig.stop()
	direct, mgr := rig.direct, rig.mgr
	var dir *scaleDirectory
	if o.Scale.DirectoryPeople > 0 {
		if dir, err = startScaleDirectory(ctx, direct, o.Scale.DirectoryPeople, o.Timeout); err != nil {
			return err
		}
		defer dir.stop()
	}

	res, err := measureScale(ctx, direct, mgr, rig.apiserver, o, dir)
	if err != nil {
		return err
	}
	md := res.markdown()
	if o.Scale.Restart {
		restarted, err := measureRestart(ctx, rig, rig.apiserver, o.Scale.served(o.Spaces), o.Timeout)
		if err != nil {
			return err
		}
		md += restarted.markdown()
	}
	fmt.Print(md)
	if o.Out != "" {
		return os.WriteFile(o.Out, []byte(md), 0o644)
	}
	return nil
}

func measureScale(ctx context.Context, direct client.WithWatch, mgr *managerProcess, apiserver rest.Interface, o Options,
	dir *scaleDirectory) (scaleResult, error) {
	res := scaleResult{spaces: o.Spaces, members: o.Scale.Members, steady: o.Scale.Steady, shards: o.Scale.Shards,
		directoryPeople: o.Scale.DirectoryPeople}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var sampled atomic.Uint64
	var sampledAnon atomic.Uint64
	go sampleRSS(sampleCtx, mgr.cmd.Process.Pid, &sampled, &sampledAnon)
	// Prometheus scrapes the manager all along, and a scrape costs memory.
	go scrapeMetrics(sampleCtx, mgr.metrics, metricsScrapeInterval)
	defer stopSampling()

	kindsBefore, err := benchkit.WritesByKind(ctx, apiserver)
	if err != nil {
		return res, err
	}
	benchkit.Progress("scale: creating %d namespaces, each with a space of %d members", o.Spaces, o.Scale.Members)
	start := time.Now()
	if err := createScaleSpaces(ctx, direct, o, dir); err != nil {
		return res, err
	}
	res.created = time.Since(start)
	benchkit.Progress("scale: created in %s; waiting for every space to be Ready", res.created.Round(time.Second))
	if err := waitSpacesReady(ctx, direct, o.Scale.served(o.Spaces), o.Timeout); err != nil {
		return res, err
	}
	res.readyAfterFirst = time.Since(start)
	res.readyAfterLast = res.readyAfterFirst - res.created
	// The watch may show the last space Ready before the manager's client has
	// counted the status patch that made it so.
	if err := benchkit.Sleep(ctx, 2*time.Second); err != nil {
		return res, err
	}
	if res.writes, err = requestsByMethod(ctx, mgr.metrics); err != nil {
		return res, err
	}
	kindsAfter, err := benchkit.WritesByKind(ctx, apiserver)
	if err != nil {
		return res, err
	}
	res.byKind = benchkit.WritesTable(kindsBefore, kindsAfter, o.Spaces, o.Scale.served(o.Spaces))
	benchkit.Progress("scale: all Ready after %s; counting writes for %s", res.readyAfterFirst.Round(time.Second), o.Scale.Steady)
	if err := benchkit.Sleep(ctx, o.Scale.Steady); err != nil {
		return res, err
	}
	after, err := requestsByMethod(ctx, mgr.metrics)
	if err != nil {
		return res, err
	}
	res.steadyWrites = map[string]float64{}
	for m, n := range after {
		res.steadyWrites[m] = n - res.writes[m]
	}
	if dir != nil {
		if res.withPeople, err = spacesWithPeople(ctx, direct, scaleGroupSize); err != nil {
			return res, err
		}
	}
	s, err := mgr.sample(ctx)
	res.readyRSS, res.readyHeap, res.readyAnon, res.readyFile = s.rss, s.heap, s.anon, s.file
	stopSampling()
	res.sampledPeak, res.peakRSS, res.peakAnon = sampled.Load(), benchkit.PeakRSS(mgr.cmd.Process.Pid), sampledAnon.Load()
	if path, err := mgr.saveHeapProfile(ctx); err == nil {
		benchkit.Progress("scale: the manager's heap profile is in %s (go tool pprof -top %s)", path, path)
	}
	return res, err
}

// createScaleSpaces creates the namespaces and spaces with o.scale.creators
// clients side by side.
func createScaleSpaces(ctx context.Context, c client.Client, o Options, dir *scaleDirectory) error {
	next := atomic.Int64{}
	var wg sync.WaitGroup
	errs := make(chan error, o.Scale.Creators)
	for range o.Scale.Creators {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= o.Spaces || ctx.Err() != nil {
					return
				}
				ns := fmt.Sprintf("scale-%05d", i)
				if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
					errs <- err
					return
				}
				space := scaleSpace(ns, o.Scale.Members)
				if dir != nil {
					space.Spec.Members = append(space.Spec.Members, dir.member(i))
				}
				if o.Scale.Shards > 1 {
					space.Labels = map[string]string{collabv1.ShardLabel: o.Scale.shardOf(i)}
				}
				if err := c.Create(ctx, space); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// scaleSpace is a department with permissions only: one Owner, a few Moderators,
// the rest Members, all Users.
func scaleSpace(ns string, members int) *collabv1.CollaborationSpace {
	list := make([]collabv1.Member, members)
	for j := range list {
		role := collabv1.RoleMember
		switch {
		case j == 0:
			role = collabv1.RoleOwner
		case j < 4:
			role = collabv1.RoleModerator
		}
		list[j] = collabv1.Member{Kind: collabv1.SubjectUser, Name: fmt.Sprintf("person-%02d", j), Role: role}
	}
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "team", Namespace: ns},
		Spec:       collabv1.CollaborationSpaceSpec{Department: "Team " + ns, Members: list},
	}
}

// metricsScrapeInterval is how often the run reads the manager's /metrics, as
// a Prometheus would (its default is a minute; 15 s is common).
const metricsScrapeInterval = 15 * time.Second

// scrapeMetrics reads the manager's /metrics every interval until ctx ends.
func scrapeMetrics(ctx context.Context, addr string, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = httpGet(ctx, "http://"+addr+"/metrics")
		}
	}
}

// sampleRSS keeps the highest resident set seen, once a second.
func sampleRSS(ctx context.Context, pid int, peak, peakAnon *atomic.Uint64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if rss := procStatus(pid, "VmRSS:"); rss > peak.Load() {
			peak.Store(rss)
		}
		if anon := procStatus(pid, "RssAnon:"); anon > peakAnon.Load() {
			peakAnon.Store(anon)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// requestsByMethod sums the manager's rest_client_requests_total by method.
func requestsByMethod(ctx context.Context, addr string) (map[string]float64, error) {
	out := map[string]float64{}
	err := scanMetrics(ctx, addr, func(line string) {
		line, ok := strings.CutPrefix(line, "rest_client_requests_total{")
		if !ok {
			return
		}
		labels, value, _ := strings.Cut(line, "} ")
		for _, l := range strings.Split(labels, ",") {
			if m, ok := strings.CutPrefix(l, `method="`); ok {
				n, _ := strconv.ParseFloat(value, 64)
				out[strings.TrimSuffix(m, `"`)] += n
			}
		}
	})
	return out, err
}

func (r scaleResult) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %d departments, permissions only, %d members each\n\n", r.spaces, r.members)
	if r.directoryPeople > 0 {
		fmt.Fprintf(&b, "With a directory of %d people in groups of %d (real slapd, a default PeopleDirectory): "+
			"each space also names one group, so it resolves %d people more.\n\n", r.directoryPeople, scaleGroupSize, scaleGroupSize)
	}
	if r.shards > 1 {
		fmt.Fprintf(&b, "Spread over %d shards by the %s label; the manager measured serves one shard, %d spaces "+
			"(--watch-label-selector=%s=%s). Per-space figures are per space it serves.\n\n",
			r.shards, collabv1.ShardLabel, (r.spaces+r.shards-1)/r.shards, collabv1.ShardLabel, "shard-0")
	}
	b.WriteString("| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| manager peak RSS, to the end of the steady state, /metrics read every %s (sampled each second) | %s |\n",
		metricsScrapeInterval, benchkit.MiB(r.sampledPeak))
	fmt.Fprintf(&b, "| manager peak RSS (VmHWM) | %s |\n", benchkit.MiB(r.peakRSS))
	fmt.Fprintf(&b, "| manager peak anonymous memory (RssAnon, sampled each second) | %s |\n", benchkit.MiB(r.peakAnon))
	fmt.Fprintf(&b, "| manager RSS / Go heap in use, steady | %s / %s |\n", benchkit.MiB(r.readyRSS), benchkit.MiB(r.readyHeap))
	fmt.Fprintf(&b, "| manager RSS, steady: anonymous + the binary's pages | %s + %s |\n", benchkit.MiB(r.readyAnon), benchkit.MiB(r.readyFile))
	fmt.Fprintf(&b, "| manager GOMEMLIMIT | %s |\n", cmp.Or(ManagerMemLimit, "none"))
	fmt.Fprintf(&b, "| creating the namespaces and spaces | %s |\n", r.created.Round(time.Second))
	fmt.Fprintf(&b, "| all Ready after the first create | %s |\n", r.readyAfterFirst.Round(time.Second))
	fmt.Fprintf(&b, "| all Ready after the last create | %s |\n", r.readyAfterLast.Round(time.Second))
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		fmt.Fprintf(&b, "| %s requests until Ready (per space) | %.0f (%.2f) |\n", m, r.writes[m], r.writes[m]/float64(ScaleOptions{Shards: r.shards}.served(r.spaces)))
	}
	steady := r.steadyWrites["POST"] + r.steadyWrites["PUT"] + r.steadyWrites["PATCH"] + r.steadyWrites["DELETE"]
	fmt.Fprintf(&b, "| writes in %s of steady state | %.0f |\n", r.steady, steady)
	if r.directoryPeople > 0 {
		fmt.Fprintf(&b, "| spaces whose status.members lists their group's %d people | %d |\n", scaleGroupSize, r.withPeople)
	}
	if r.byKind != "" {
		b.WriteString("\nThe manager's writes until Ready, by kind:\n\n" + r.byKind)
	}
	return b.String()
}
