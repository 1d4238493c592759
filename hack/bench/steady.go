package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/spacepass"
	"github.com/opencommons/collab-operator/internal/spacepass/forumphase"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
	"github.com/opencommons/collab-operator/internal/testing/writecount"
)

// steadyResult is what one resync pass over every converged space did.
type steadyResult struct {
	Duration  time.Duration
	Matrix    []benchkit.OpStat
	APIWrites map[string]int // "<verb> <kind>" -> count
	Events    int
	Errors    []string
}

func (s steadyResult) apiWriteCount() int {
	n := 0
	for _, c := range s.APIWrites {
		n += c
	}
	return n
}

// runSteady runs a fresh reconciler, with its own Matrix client and a direct API
// client that counts writes, over every space once, as the periodic resync does.
// Nothing changed since the spaces turned Ready, so it should write nothing.
func runSteady(ctx context.Context, cfg *rest.Config, w benchkit.Workload, workers int) (steadyResult, error) {
	var res steadyResult
	var stats benchkit.OpStats
	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return res, err
	}
	writes := &writecount.Counter{}
	rec := &countingRecorder{}
	r := &spacepass.Pass{
		Client:             writes.Wrap(direct),
		Scheme:             testenv.Scheme(),
		Recorder:           rec,
		Chat:               &matrix.Connector{Observer: stats.Observe},
		Forum:              forumphase.Settings{OperatorNamespace: benchkit.OperatorNamespace},
		Forums:             forum.Engines{&nodebb.Connector{}},
		MaxRemovalsPerPass: 5,
	}
	jobs := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				req := ctrl.Request{NamespacedName: client.ObjectKey{Namespace: w.Namespace(i), Name: w.SpaceName(i)}}
				if _, err := r.Reconcile(ctx, req); err != nil {
					mu.Lock()
					res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", req.NamespacedName, err))
					mu.Unlock()
				}
			}
		})
	}
	for i := range w.Spaces {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	res.Duration = time.Since(start)
	res.Matrix = stats.Snapshot()
	res.APIWrites = countByKind(writes.Writes())
	res.Events = int(rec.count())
	sort.Strings(res.Errors)
	if len(res.Errors) == w.Spaces {
		return res, errors.New("every steady-state pass failed, first: " + res.Errors[0])
	}
	return res, nil
}

// countingRecorder counts the events a reconciler emits; each would be an API write.
type countingRecorder struct {
	mu sync.Mutex
	n  int64
}

func (r *countingRecorder) Eventf(_, _ runtime.Object, _, _, _, _ string, _ ...any) {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
}

func (r *countingRecorder) count() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// countByKind groups recorded writes ("verb *Type name") by verb and type.
func countByKind(writes []string) map[string]int {
	out := map[string]int{}
	for _, w := range writes {
		if i := strings.LastIndex(w, " "); i > 0 {
			w = w[:i]
		}
		out[w]++
	}
	return out
}
