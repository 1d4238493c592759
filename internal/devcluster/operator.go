package devcluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"
)

// startOperator builds the manager from this checkout and runs it against the local
// cluster, as it would run in a real one.
func (e *Env) startOperator(ctx context.Context) error {
	bin := filepath.Join(e.root, "bin", "manager")
	if err := e.runQuiet(ctx, e.out, "go", "build", "-o", bin, "."); err != nil {
		return fmt.Errorf("cannot build the manager: %w", err)
	}
	metrics, err := freeAddr()
	if err != nil {
		return err
	}
	probes, err := freeAddr()
	if err != nil {
		return err
	}
	e.metricsAddr = metrics
	if err := e.start("operator", bin, "--kubeconfig="+e.kubeconfig,
		"--metrics-bind-address="+metrics, "--health-probe-bind-address="+probes,
		"--forum-endpoint-override="+e.forum.URL(), "--operator-namespace="+operatorNamespace,
		"--insights-interval="+insightsInterval.String(), "--zap-log-level=info"); err != nil {
		return err
	}
	return waitHTTP(ctx, "http://"+probes+"/readyz", 60*time.Second)
}

// waitHTTP waits until url answers 200.
func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within %s", url, timeout)
}
