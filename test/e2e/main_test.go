// Package e2e runs the operator as `make dev` does — its own binary, on a local
// cluster with a controller-manager, a scheduler and a kwok node, beside Dendrite and
// the NodeBB stand-in — and checks what a platform engineer would look at.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opencommons/collab-operator/internal/devcluster"
)

var (
	env *devcluster.Env
	c   client.Client
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := io.Discard
	if testing.Verbose() {
		out = os.Stderr
	}
	var err error
	if env, err = devcluster.Start(ctx, devcluster.Options{Dir: "tmp/e2e", Out: out}); err != nil {
		fmt.Fprintln(os.Stderr, "cannot start the local environment:", err)
		return 1
	}
	defer env.Stop()
	c = env.Client()
	code := m.Run()
	if code != 0 {
		fmt.Fprintln(os.Stderr, "logs of every process are in", env.Dir())
	}
	return code
}
