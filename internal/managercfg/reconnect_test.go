package managercfg

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
)

// listenLater reserves a loopback port, frees it, and returns its address and a
// function that listens on it again.
func listenLater(t *testing.T) (string, func() net.Listener) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr, func() net.Listener {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		return l
	}
}

func testDialer() (*reconnectingDialer, *[]string) {
	var mu sync.Mutex
	var lines []string
	log := funcr.New(func(_, args string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, args)
	}, funcr.Options{})
	return &reconnectingDialer{dial: (&net.Dialer{}).DialContext, retry: 20 * time.Millisecond, maxWait: time.Minute, log: log}, &lines
}

func TestReconnectingDialerFailsFastBeforeFirstContact(t *testing.T) {
	addr, _ := listenLater(t)
	d, _ := testDialer()
	start := time.Now()
	if _, err := d.DialContext(context.Background(), "tcp", addr); err == nil {
		t.Fatal("a dial to a closed port succeeded")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the first dial waited %s for an API server never reached", took)
	}
}

func TestReconnectingDialerWaitsForAnAPIServerItReached(t *testing.T) {
	addr, listen := listenLater(t)
	d, lines := testDialer()
	l := listen()
	conn, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	_ = l.Close() // the API server goes away

	back := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		listen()
		close(back)
	}()
	conn, err = d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("the dial did not wait for the API server: %v", err)
	}
	_ = conn.Close()
	select {
	case <-back:
	default:
		t.Fatal("the dial returned before the API server listened again")
	}
	got := strings.Join(*lines, "\n")
	for _, want := range []string{`"Lost the API server`, `"Reached the API server again"`} {
		if strings.Count(got, want) != 1 {
			t.Errorf("want %s logged once, the log says:\n%s", want, got)
		}
	}
}

func TestReconnectingDialerStopsWaitingWithItsContext(t *testing.T) {
	addr, listen := listenLater(t)
	d, _ := testDialer()
	l := listen()
	if conn, err := d.DialContext(context.Background(), "tcp", addr); err == nil {
		_ = conn.Close()
	}
	_ = l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := d.DialContext(ctx, "tcp", addr); err == nil {
		t.Fatal("a dial to a closed port succeeded")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the dial waited %s after its context ended", took)
	}
}
