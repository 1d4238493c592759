package benchkit

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// OpStats counts requests by method and operation, with the time they took.
type OpStats struct {
	mu  sync.Mutex
	ops map[string]*OpStat
}

type OpStat struct {
	Method string
	Op     string
	Count  int64
	// NotFound counts 404 answers: expected when looking an alias up before
	// creating its room. Errors counts the other failures: no answer or >= 400.
	NotFound, Errors int64
	Time             time.Duration
}

// IsWrite reports whether a request changes something: anything but GET, HEAD and
// (for the API server) WATCH.
func (s OpStat) IsWrite() bool {
	return s.Method != http.MethodGet && s.Method != http.MethodHead && s.Method != methodWatch
}

// methodWatch marks API requests that open a watch.
const methodWatch = "WATCH"

// Observe has the shape of matrix.RequestObserver.
func (s *OpStats) Observe(method, op string, status int, d time.Duration) {
	o := OpStat{Method: method, Op: op, Count: 1, Time: d}
	switch {
	case status == http.StatusNotFound:
		o.NotFound = 1
	case status == 0 || status >= 400:
		o.Errors = 1
	}
	s.Add(o)
}

// Add adds a counted operation.
func (s *OpStats) Add(o OpStat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ops == nil {
		s.ops = map[string]*OpStat{}
	}
	key := o.Method + " " + o.Op
	st, ok := s.ops[key]
	if !ok {
		st = &OpStat{Method: o.Method, Op: o.Op}
		s.ops[key] = st
	}
	st.Count += o.Count
	st.NotFound += o.NotFound
	st.Errors += o.Errors
	st.Time += o.Time
}

// Snapshot returns the counts so far, writes first, then by count.
func (s *OpStats) Snapshot() []OpStat {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]OpStat, 0, len(s.ops))
	for _, st := range s.ops {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].IsWrite() != out[j].IsWrite() {
			return out[i].IsWrite()
		}
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Method+out[i].Op < out[j].Method+out[j].Op
	})
	return out
}

// Totals sums a snapshot into reads and writes.
func Totals(ops []OpStat) (reads, writes int64) {
	for _, s := range ops {
		if s.IsWrite() {
			writes += s.Count
		} else {
			reads += s.Count
		}
	}
	return reads, writes
}

func Total(ops []OpStat) int64 {
	r, w := Totals(ops)
	return r + w
}

// ErrorsIn counts the failed requests of a snapshot.
func ErrorsIn(ops []OpStat) int64 {
	var n int64
	for _, s := range ops {
		n += s.Errors
	}
	return n
}

// CountingTransport counts the requests a Kubernetes client makes, by verb and
// resource, so the manager's API traffic can be reported next to its Matrix traffic.
type CountingTransport struct {
	Next  http.RoundTripper
	Stats *OpStats
}

func (t *CountingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.Next.RoundTrip(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	method := req.Method
	if req.URL.Query().Get("watch") == "true" {
		method = methodWatch
	}
	t.Stats.Observe(method, apiResource(req.URL.Path), status, time.Since(start))
	return resp, err
}

// apiResource turns /apis/<group>/<version>/namespaces/<ns>/<resource>/<name>/<sub>
// (or the cluster-scoped and core forms) into "<resource>[/<sub>]".
func apiResource(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	base := 0
	switch {
	case len(segs) > 0 && segs[0] == "api":
		base = 2
	case len(segs) > 0 && segs[0] == "apis":
		base = 3
	default:
		return path
	}
	if len(segs) > base+2 && segs[base] == "namespaces" {
		base += 2
	}
	if len(segs) <= base {
		return path
	}
	res := segs[base]
	if len(segs) > base+2 {
		res += "/" + segs[base+2]
	}
	return res
}
