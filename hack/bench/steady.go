package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/opencommons/collab-operator/controllers"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// steadyResult is what one resync pass over every converged space did.
type steadyResult struct {
	Duration  time.Duration
	Matrix    []opStat
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
func runSteady(ctx context.Context, cfg *rest.Config, w workload, workers int) (steadyResult, error) {
	var res steadyResult
	var stats opStats
	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return res, err
	}
	writes := &writeCounter{counts: map[string]int{}}
	rec := &countingRecorder{}
	r := &controllers.CollaborationSpaceReconciler{
		Client:             interceptor.NewClient(direct, writes.funcs()),
		Scheme:             testenv.Scheme(),
		Recorder:           rec,
		Chat:               &controllers.MatrixConnector{Observer: stats.observe},
		Forum:              controllers.ForumSettings{OperatorNamespace: benchNamespace},
		ForumConnector:     &controllers.NodeBBConnector{},
		MaxRemovalsPerPass: 5,
	}
	jobs := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				req := ctrl.Request{NamespacedName: client.ObjectKey{Namespace: w.namespace(i), Name: w.spaceName(i)}}
				if _, err := r.Reconcile(ctx, req); err != nil {
					mu.Lock()
					res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", req.NamespacedName, err))
					mu.Unlock()
				}
			}
		})
	}
	for i := range w.spaces {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	res.Duration = time.Since(start)
	res.Matrix = stats.snapshot()
	res.APIWrites = writes.counts
	res.Events = int(rec.count())
	sort.Strings(res.Errors)
	if len(res.Errors) == w.spaces {
		return res, errors.New("every steady-state pass failed, first: " + res.Errors[0])
	}
	return res, nil
}

// writeCounter counts the API requests of a client that would change something.
type writeCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (w *writeCounter) add(op string, obj client.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counts[fmt.Sprintf("%s %T", op, obj)]++
}

func (w *writeCounter) funcs() interceptor.Funcs {
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			w.add("create", obj)
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			w.add("update", obj)
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			w.add("patch", obj)
			return c.Patch(ctx, obj, p, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			w.add("delete", obj)
			return c.Delete(ctx, obj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			w.add("update/"+sub, obj)
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			w.add("patch/"+sub, obj)
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
	}
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
