// Command devenv is `make dev`: it runs the operator for real on a local control plane
// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a kwok node), a
// local Dendrite homeserver and the NodeBB stand-in, applies config/samples, waits for
// them to be Ready, prints what was made, and on Ctrl-C stops every process it started.
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
	"syscall"
	"time"

	"github.com/opencommons/collab-operator/internal/devcluster"
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
		if ctx.Err() != nil {
			// Ctrl-C while starting up: stopped as asked, not a failure.
			fmt.Println("==> Stopped")
			return
		}
		fmt.Fprintln(os.Stderr, "make dev:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	env, err := devcluster.Start(ctx, devcluster.Options{Dir: o.dir})
	if err != nil {
		return err
	}
	defer env.Stop()
	fmt.Printf("==> Applying %s\n", o.samples)
	if err := env.ApplySamples(ctx, o.samples); err != nil {
		return err
	}
	fmt.Println("==> Waiting for the samples to be Ready")
	if err := env.WaitReady(ctx, o.timeout); err != nil {
		return err
	}
	fmt.Println("==> The sample people talk")
	if err := env.PlayConversation(ctx); err != nil {
		return err
	}
	env.Report(ctx)
	if o.exitReady {
		return nil
	}
	fmt.Printf("==> Running. KUBECONFIG=%s kubectl get cspaces -A  — Ctrl-C stops everything.\n", env.Kubeconfig())
	<-ctx.Done()
	fmt.Println("==> Stopping")
	return nil
}
