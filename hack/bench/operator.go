package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers"
	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/managercfg"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

const benchBackend = "bench-matrix"

// operatorResult is what the operator run measured.
type operatorResult struct {
	// Create is how long creating the CollaborationSpaces took; Converge runs from
	// the first create until every space was Ready at its generation.
	Create, Converge time.Duration
	// FirstReady is when the first space turned Ready, from the first create.
	FirstReady time.Duration
	// Matrix requests of the space reconciler and of the backend reconciler until
	// every space was Ready, and the same including the work they did after that
	// until Matrix went quiet (requeued passes).
	Spaces, SpacesSettled   []benchkit.OpStat
	Backend, BackendSettled []benchkit.OpStat
	// API requests of the manager, until Ready and settled.
	API, APISettled []benchkit.OpStat
	// Passes counts reconcile passes by controller and result, until Ready and settled.
	Passes, PassesSettled map[string]map[string]int
	// Setup is what the ChatBackend's first pass took before any space existed.
	Setup []benchkit.OpStat
	// CPU is where the CPU went from the first create until every space was Ready.
	CPU benchkit.CPUUsage
	// Stream is what keeping the rooms true cost afterwards (-stream-window).
	Stream streamResult
	// Insights is what counting the openness insights costs (-insights-rate).
	Insights insightsResult
}

// Matrix is every Matrix request of the manager until Ready.
func (r operatorResult) Matrix() []benchkit.OpStat { return merge(r.Spaces, r.Backend) }

// MatrixSettled is every Matrix request of the manager, settled.
func (r operatorResult) MatrixSettled() []benchkit.OpStat {
	return merge(r.SpacesSettled, r.BackendSettled)
}

// runOperator runs the real manager in this process, as main.go wires it, against
// envtest and the given Dendrite, creates the spaces and waits for them to be Ready.
func runOperator(ctx context.Context, cfg *rest.Config, direct client.WithWatch, hs *dendrite.Server, token string,
	probe benchkit.CPUProbe, w benchkit.Workload, o options) (operatorResult, error) {
	var res operatorResult
	var spaceStats, backendStats, apiStats benchkit.OpStats

	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.QPS, mgrCfg.Burst = o.kubeQPS, o.kubeBurst
	mgrCfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &benchkit.CountingTransport{Next: rt, Stats: &apiStats}
	})
	mgr, err := ctrl.NewManager(mgrCfg, managercfg.ManagerOptions(ctrl.Options{
		Scheme:  testenv.Scheme(),
		Metrics: metricsserver.Options{BindAddress: "0"},
	}))
	if err != nil {
		return res, err
	}
	// main.go shares one Matrix connector between the reconcilers; here each has its
	// own, so their requests can be told apart. Both use the same access token.
	spaceChat := &matrix.Connector{Observer: spaceStats.Observe}
	backendChat := &matrix.Connector{Observer: backendStats.Observe}
	if err := setupControllers(ctx, mgr, spaceChat, backendChat, o.concurrency); err != nil {
		return res, err
	}
	mgrCtx, stopMgr := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(mgrCtx) }()
	defer func() {
		stopMgr()
		<-stopped //nolint:errcheck // the manager's shutdown error says nothing about the run
	}()
	if !mgr.GetCache().WaitForCacheSync(mgrCtx) {
		return res, errors.New("the manager's cache did not sync")
	}

	if err := createBackend(ctx, direct, hs, token, o.pollInterval); err != nil {
		return res, err
	}
	if err := waitBackendReady(ctx, direct); err != nil {
		return res, err
	}
	res.Setup = backendStats.Snapshot()
	backendBase, apiBase, passBase := res.Setup, apiStats.Snapshot(), reconcilePasses()

	for i := range w.Spaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.Namespace(i)}}
		if err := direct.Create(ctx, ns); err != nil {
			return res, err
		}
	}
	benchkit.Progress("operator: creating %d CollaborationSpaces", w.Spaces)
	cpu0 := probe.Sample()
	start := time.Now()
	for i := range w.Spaces {
		if err := direct.Create(ctx, w.Space(i, benchBackend)); err != nil {
			return res, fmt.Errorf("cannot create space %d: %w", i, err)
		}
	}
	res.Create = time.Since(start)
	if res.FirstReady, err = waitAllReady(ctx, direct, w, start, o.Timeout); err != nil {
		return res, err
	}
	res.Converge = time.Since(start)
	res.CPU = probe.Sample().Since(cpu0, res.Converge)
	res.Spaces = spaceStats.Snapshot()
	res.Backend = subtract(backendStats.Snapshot(), backendBase)
	res.API = subtract(apiStats.Snapshot(), apiBase)
	res.Passes = subtractPasses(reconcilePasses(), passBase)

	settle(ctx, func() int64 { return benchkit.Total(spaceStats.Snapshot()) + benchkit.Total(backendStats.Snapshot()) }, 3*time.Second, time.Minute)
	res.SpacesSettled = spaceStats.Snapshot()
	res.BackendSettled = subtract(backendStats.Snapshot(), backendBase)
	res.APISettled = subtract(apiStats.Snapshot(), apiBase)
	res.PassesSettled = subtractPasses(reconcilePasses(), passBase)
	if o.streamWindow > 0 {
		all := func() []benchkit.OpStat { return merge(spaceStats.Snapshot(), backendStats.Snapshot()) }
		if res.Stream, err = measureStream(ctx, direct, hs, w, all, o); err != nil {
			return res, fmt.Errorf("stream: %w", err)
		}
	}
	if o.insightsRate > 0 {
		if res.Insights, err = measureInsights(ctx, direct, hs, token, w, probe, o.insightsRate, o.insightsWindow); err != nil {
			return res, fmt.Errorf("insights: %w", err)
		}
	}
	return res, nil
}

// setupControllers wires the manager as main.go does, except that the space and
// backend reconcilers get a Matrix client each, so their requests can be told apart,
// and the spaces' metrics collector is not registered with the registry the
// benchmark reads its pass counts from (main.go's only runs when metrics are scraped).
func setupControllers(ctx context.Context, mgr ctrl.Manager, spaceChat, backendChat *matrix.Connector, workers int) error {
	return controllers.Setup(ctx, mgr, controllers.Options{
		OperatorNamespace:       benchkit.OperatorNamespace,
		MaxConcurrentReconciles: workers,
		MaxRemovalsPerPass:      5,
		Chat:                    spaceChat,
		BackendChat:             backendChat,
		Metrics:                 prometheus.NewRegistry(),
	})
}

// createBackend stores the operator's token in a Secret and points a ChatBackend with
// a directory space at the homeserver, as a platform team would.
func createBackend(ctx context.Context, c client.Client, hs *dendrite.Server, token string, poll time.Duration) error {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchkit.OperatorNamespace}}); err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "matrix-credentials", Namespace: benchkit.OperatorNamespace},
		Data:       map[string][]byte{"accessToken": []byte(token)},
	}
	if err := c.Create(ctx, secret); err != nil {
		return err
	}
	return c.Create(ctx, &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: benchBackend},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{
				HomeserverURL:        hs.URL,
				ServerName:           hs.ServerName,
				CredentialsSecretRef: collabv1.SecretReference{Name: secret.Name},
				DirectorySpace:       &collabv1.DirectorySpace{Name: "Bench"},
			},
			PollInterval: metav1.Duration{Duration: poll},
		},
	})
}

func waitBackendReady(ctx context.Context, c client.Client) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		b := &collabv1.ChatBackend{}
		if err := c.Get(ctx, client.ObjectKey{Name: benchBackend}, b); err != nil {
			return err
		}
		if meta.IsStatusConditionTrue(b.Status.Conditions, collabv1.ReadyCondition) && b.Status.UserID != "" {
			return nil
		}
		if err := benchkit.Sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return errors.New("the ChatBackend did not turn Ready within a minute")
}

// waitAllReady watches the spaces until all are Ready at their generation, and
// returns when the first turned Ready. It stops early when one is Stalled: waiting
// longer would not help. A watch rather than a List every 250ms: listing 200 spaces
// with their status four times a second cost the API server and this process more
// CPU than the operator itself, on the two cores Dendrite needs.
//
//nolint:gocyclo // one polling loop that reports each way a wait can end
func waitAllReady(ctx context.Context, c client.WithWatch, w benchkit.Workload, start time.Time, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithDeadline(ctx, start.Add(timeout))
	defer cancel()
	ready := map[string]bool{}
	var firstReady time.Duration
	// see records one space's state; it returns an error when the space is Stalled.
	see := func(s *collabv1.CollaborationSpace) error {
		if c := meta.FindStatusCondition(s.Status.Conditions, collabv1.StalledCondition); c != nil && c.Status == metav1.ConditionTrue {
			return fmt.Errorf("space %s/%s is Stalled: %s", s.Namespace, s.Name, c.Message)
		}
		key := s.Namespace + "/" + s.Name
		if benchkit.IsReady(s) {
			ready[key] = true
			if firstReady == 0 {
				firstReady = time.Since(start)
			}
		} else {
			delete(ready, key)
		}
		return nil
	}
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		var list collabv1.CollaborationSpaceList
		if err := c.List(ctx, &list); err != nil {
			return 0, waitErr(err, len(ready), w.Spaces, timeout)
		}
		for i := range list.Items {
			if err := see(&list.Items[i]); err != nil {
				return 0, err
			}
		}
		watcher, err := c.Watch(ctx, &collabv1.CollaborationSpaceList{},
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			return 0, waitErr(err, len(ready), w.Spaces, timeout)
		}
	events:
		for len(ready) < w.Spaces {
			select {
			case ev, ok := <-watcher.ResultChan():
				if !ok {
					break events // the watch ended: list again and watch anew
				}
				if s, isSpace := ev.Object.(*collabv1.CollaborationSpace); isSpace && ev.Type != watch.Deleted {
					if err := see(s); err != nil {
						watcher.Stop()
						return 0, err
					}
				}
			case <-tick.C:
				benchkit.Progress("operator: %d/%d spaces Ready after %s", len(ready), w.Spaces, time.Since(start).Round(time.Second))
			case <-ctx.Done():
				watcher.Stop()
				return 0, waitErr(ctx.Err(), len(ready), w.Spaces, timeout)
			}
		}
		watcher.Stop()
		if len(ready) == w.Spaces {
			return firstReady, nil
		}
	}
}

func waitErr(err error, ready, spaces int, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("only %d of %d spaces Ready after %s", ready, spaces, timeout)
	}
	return err
}

// settle waits until count stays the same for quiet, at most max.
func settle(ctx context.Context, count func() int64, quiet, max time.Duration) {
	deadline := time.Now().Add(max)
	last := count()
	lastChange := time.Now()
	for time.Now().Before(deadline) && time.Since(lastChange) < quiet {
		if benchkit.Sleep(ctx, 250*time.Millisecond) != nil {
			return
		}
		if n := count(); n != last {
			last, lastChange = n, time.Now()
		}
	}
}

// subtract returns after minus before, dropping operations that did not happen.
func subtract(after, before []benchkit.OpStat) []benchkit.OpStat {
	base := map[string]benchkit.OpStat{}
	for _, s := range before {
		base[s.Method+" "+s.Op] = s
	}
	var out []benchkit.OpStat
	for _, s := range after {
		b := base[s.Method+" "+s.Op]
		s.Count -= b.Count
		s.Errors -= b.Errors
		s.NotFound -= b.NotFound
		s.Time -= b.Time
		if s.Count > 0 {
			out = append(out, s)
		}
	}
	return out
}

// merge adds snapshots up by operation.
func merge(parts ...[]benchkit.OpStat) []benchkit.OpStat {
	var sum benchkit.OpStats
	for _, part := range parts {
		for _, s := range part {
			sum.Add(s)
		}
	}
	return sum.Snapshot()
}

// reconcilePasses reads controller-runtime's reconcile counter: passes by
// controller and result (success, error, requeue, requeue_after).
func reconcilePasses() map[string]map[string]int {
	out := map[string]map[string]int{}
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		return out
	}
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var ctrlName, result string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "controller":
					ctrlName = l.GetValue()
				case "result":
					result = l.GetValue()
				}
			}
			if out[ctrlName] == nil {
				out[ctrlName] = map[string]int{}
			}
			out[ctrlName][result] += int(m.GetCounter().GetValue())
		}
	}
	return out
}

func subtractPasses(after, before map[string]map[string]int) map[string]map[string]int {
	out := map[string]map[string]int{}
	for c, results := range after {
		for r, n := range results {
			if d := n - before[c][r]; d > 0 {
				if out[c] == nil {
					out[c] = map[string]int{}
				}
				out[c][r] = d
			}
		}
	}
	return out
}
