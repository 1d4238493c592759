package managerbench

import (
	"context"
	"os"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// managerRig is what the modes that measure the manager as its own process
// share: kube-apiserver + etcd, a direct client, the manager binary running as
// main.go runs it, and the stop of all of it.
type managerRig struct {
	direct client.WithWatch
	// apiserver reads the API server's own /metrics.
	apiserver rest.Interface
	mgr       *managerProcess
	stops     []func()
	// env, dir and bin start the manager again (restart).
	env      *envtest.Environment
	dir, bin string
}

// startManagerRig starts envtest and the manager (this checkout's, built, or
// o.secrets.manager). The direct client may send qps requests a second; 0 keeps
// client-go's default.
func startManagerRig(ctx context.Context, o Options, mode string, qps float32) (*managerRig, error) {
	r := &managerRig{}
	benchkit.Progress("%s: starting kube-apiserver + etcd (envtest)", mode)
	env, cfg, err := testenv.Start()
	if err != nil {
		return nil, err
	}
	r.stops = append(r.stops, func() { _ = env.Stop() })
	if qps > 0 {
		cfg = rest.CopyConfig(cfg)
		cfg.QPS, cfg.Burst = qps, int(2*qps)
	}
	if r.apiserver, err = benchkit.APIServerMetricsClient(cfg); err != nil {
		r.stop()
		return nil, err
	}
	if r.direct, err = client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()}); err != nil {
		r.stop()
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench-"+mode+"-")
	if err != nil {
		r.stop()
		return nil, err
	}
	r.stops = append(r.stops, func() { _ = os.RemoveAll(dir) })
	bin, err := managerBinary(ctx, dir, o.Secrets.Manager)
	if err == nil {
		err = r.direct.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchkit.OperatorNamespace}})
	}
	if err == nil {
		r.mgr, err = startManagerProcess(ctx, env, dir, bin)
	}
	if err != nil {
		r.stop()
		return nil, err
	}
	r.env, r.dir, r.bin = env, dir, bin
	r.stops = append(r.stops, func() { r.mgr.stop() })
	return r, nil
}

// restart stops the manager and starts it again, as a rollout or a crash would.
func (r *managerRig) restart(ctx context.Context) error {
	r.mgr.stop()
	mgr, err := startManagerProcess(ctx, r.env, r.dir, r.bin)
	if err != nil {
		return err
	}
	r.mgr = mgr
	return nil
}

// stop stops what the rig started, the manager first.
func (r *managerRig) stop() {
	for i := len(r.stops) - 1; i >= 0; i-- {
		r.stops[i]()
	}
}
