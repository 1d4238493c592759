package nodebb

import (
	"net/http"
	"sync/atomic"
	"time"
)

// Counter counts requests by kind. Its Observe method is a RequestObserver; the
// contract suite and the controller's tests use Writes to check that a pass over
// an unchanged forum makes none, and metrics can be fed from the same hook.
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
