package managercfg

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
)

const (
	// reconnectRetry is how often a waiting connection tries the API server again:
	// a refused dial costs one round trip.
	reconnectRetry = 250 * time.Millisecond
	// reconnectMaxWait bounds one connection's wait, so a long outage still shows
	// as errors now and then. It is longer than the two minutes after which
	// client-go's reflectors reset their backoff, so a reflector whose wait ran out
	// retries after its shortest delay.
	reconnectMaxWait = 5 * time.Minute
)

// ReconnectingConfig returns a copy of cfg whose connections to the API server,
// once it has been reached, wait while it cannot be reached instead of failing, and
// which logs when it is lost and reached again.
//
// Why: when the API server restarts, client-go's reflectors retry their watches
// with an exponential backoff of up to 30 s (a minute with jitter) that informers
// do not let anyone shorten; a spec edit made as the API server came back reached
// Matrix 24–55 s later. A waiting dial returns as soon as the API server accepts
// connections again, so a reflector's pending list or watch goes through at once
// and its backoff does not grow. Nothing has been sent when a dial fails, so the
// wait is safe for every request; it ends with the request's context or after
// reconnectMaxWait. The very first contact still fails at once, so a wrong address
// is reported, not waited for.
func ReconnectingConfig(cfg *rest.Config, log logr.Logger) *rest.Config {
	out := rest.CopyConfig(cfg)
	d := &reconnectingDialer{dial: cfg.Dial, retry: reconnectRetry, maxWait: reconnectMaxWait, log: log}
	if d.dial == nil {
		d.dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	out.Dial = d.DialContext
	return out
}

// reconnectingDialer dials the API server, waiting for it once it has been reached.
type reconnectingDialer struct {
	dial           func(ctx context.Context, network, address string) (net.Conn, error)
	retry, maxWait time.Duration
	log            logr.Logger
	// reached is set by the first dial that succeeds.
	reached atomic.Bool
	// lostAt is when the API server was found unreachable (Unix nanoseconds), 0
	// while it is reachable: one log line each way, however many dials wait.
	lostAt atomic.Int64
}

func (d *reconnectingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	start := time.Now()
	for {
		conn, err := d.dial(ctx, network, address)
		if err == nil {
			d.reachedAgain(address)
			return conn, nil
		}
		if !d.reached.Load() || ctx.Err() != nil || time.Since(start) >= d.maxWait {
			return nil, err
		}
		d.lost(address, err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(d.retry):
		}
	}
}

func (d *reconnectingDialer) lost(address string, err error) {
	if d.lostAt.CompareAndSwap(0, time.Now().UnixNano()) {
		d.log.Info("Lost the API server; requests wait for it to come back", "address", address, "error", err.Error())
	}
}

func (d *reconnectingDialer) reachedAgain(address string) {
	d.reached.Store(true)
	if lost := d.lostAt.Swap(0); lost != 0 {
		d.log.Info("Reached the API server again", "address", address,
			"unreachableFor", time.Since(time.Unix(0, lost)).Round(time.Millisecond).String())
	}
}
