// Command devenv is `make dev`: it runs the operator for real on a local control plane
// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a kwok node) and
// a local Dendrite homeserver, applies config/samples, waits for them to be Ready,
// prints what was made, and on Ctrl-C stops every process it started.
//
// Nothing needs Docker: the binaries are built from the Go module proxy into the
// machine's cache by hack/local-bins.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

type options struct {
	dir       string
	samples   string
	timeout   time.Duration
	exitReady bool
}

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", "tmp/dev", "Directory for the cluster's and Dendrite's state, logs and kubeconfig.")
	flag.StringVar(&o.samples, "samples", "config/samples", "Kustomization of the samples to apply.")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "How long to wait for the samples to be Ready.")
	flag.BoolVar(&o.exitReady, "exit-when-ready", false, "Stop everything once the samples are Ready (for smoke tests).")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "make dev:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	env := &devEnv{dir: dir}
	defer env.stopAll()

	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"Building the local binaries (cached after the first run)", env.buildBinaries},
		{"Starting etcd and kube-apiserver", env.startControlPlane},
		{"Starting kube-controller-manager, kube-scheduler and a kwok node", env.startNodeSimulation},
		{"Starting Dendrite", env.startDendrite},
		{"Starting the stand-in NodeBB forum", env.startForum},
		{"Installing the CRDs", env.installCRDs},
		{"Starting the operator", env.startOperator},
		{"Applying " + o.samples, func(ctx context.Context) error { return env.applySamples(ctx, o.samples) }},
		{"Waiting for the samples to be Ready", func(ctx context.Context) error { return env.waitReady(ctx, o.timeout) }},
	}
	for _, s := range steps {
		env.say("%s", s.name)
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	env.report(ctx)
	if o.exitReady {
		return nil
	}
	env.say("Running. KUBECONFIG=%s kubectl get cspaces -A  — Ctrl-C stops everything.", env.kubeconfig)
	<-ctx.Done()
	env.say("Stopping")
	return nil
}
