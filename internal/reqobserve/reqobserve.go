// Package reqobserve is the hook through which the backend clients (Matrix, NodeBB)
// report each HTTP request, and a counter of reads and writes built on it. Tests use
// the counter to prove a steady-state pass makes no writes; the manager feeds its
// metrics from the same hook.
package reqobserve

import (
	"net/http"
	"sync/atomic"
	"time"
)

// RequestObserver sees every HTTP request a client makes, retries included: the
// method, a short operation name, the status (0 when no answer came) and how long
// it took.
type RequestObserver func(method, op string, status int, dur time.Duration)

// Counter counts requests by kind. Its Observe method is a RequestObserver.
type Counter struct {
	reads, writes atomic.Int64
}

// Observe counts one request: GET and HEAD are reads, anything else a write.
func (c *Counter) Observe(method, _ string, _ int, _ time.Duration) {
	if method == http.MethodGet || method == http.MethodHead {
		c.reads.Add(1)
	} else {
		c.writes.Add(1)
	}
}

// Reads is the number of GET and HEAD requests so far.
func (c *Counter) Reads() int64 { return c.reads.Load() }

// Writes is the number of other requests so far.
func (c *Counter) Writes() int64 { return c.writes.Load() }
