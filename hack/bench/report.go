package main

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/opencommons/collab-operator/hack/bench/benchkit"
)

// report gathers one run's results and renders them as Markdown.
type report struct {
	opts     options
	w        benchkit.Workload
	started  time.Time
	floor    floorResult
	floorCPU benchkit.CPUUsage
	operator operatorResult
	steady   steadyResult

	selfRSS, goSys                  uint64
	floorDendriteRSS, opDendriteRSS uint64
}

const targetRatio = 1.25

func (r report) markdown() string {
	var b strings.Builder
	w, o := r.w, r.opts
	rooms := float64(w.TotalRooms())
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("## %d spaces × %d rooms\n\n", w.Spaces, w.Rooms)
	p("Run %s on %s/%s, %d CPUs, %s. %d rooms per side (%d space rooms + %d rooms), "+
		"%d department leads invited. Operator: %d workers (`--max-concurrent-reconciles`), "+
		"API client %g QPS / burst %d. Floor: %d workers, %s room state.\n\n",
		r.started.UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(),
		w.TotalRooms(), w.Spaces, w.Spaces*w.Rooms, w.Owners, o.concurrency, o.kubeQPS, o.kubeBurst, o.floorConcurrency, o.floorState)

	fl, op := r.floor, r.operator
	ratio := op.Converge.Seconds() / fl.Duration.Seconds()
	fr, fw := benchkit.Totals(fl.Ops)
	matrix := op.Matrix()
	or, ow := benchkit.Totals(matrix)
	p("| | floor | operator | target |\n|---|---:|---:|---:|\n")
	p("| time to converge | %.1f s | %.1f s | |\n", fl.Duration.Seconds(), op.Converge.Seconds())
	p("| ratio to floor | 1.00× | **%.2f×** %s | ≤ %.2f× |\n", ratio, verdict(ratio <= targetRatio), targetRatio)
	p("| rooms/s | %.2f | %.2f | |\n", rooms/fl.Duration.Seconds(), rooms/op.Converge.Seconds())
	p("| Matrix requests | %d | %d | |\n", fr+fw, or+ow)
	p("| Matrix requests per room | %.2f | %.2f | |\n", float64(fr+fw)/rooms, float64(or+ow)/rooms)
	p("| – writes per room | %.2f | %.2f | |\n", float64(fw)/rooms, float64(ow)/rooms)
	p("| – reads per room | %.2f | %.2f | |\n", float64(fr)/rooms, float64(or)/rooms)
	p("| createRoom mean latency | %s | %s | |\n", meanLatency(fl.Ops, "createRoom"), meanLatency(matrix, "createRoom"))
	p("| failed Matrix requests (404 aside) | %d | %d | 0 |\n", benchkit.ErrorsIn(fl.Ops), benchkit.ErrorsIn(matrix))
	fc, oc := r.floorCPU, op.CPU
	p("| Dendrite CPU | %.1f s | %.1f s | |\n", fc.Dendrite.Seconds(), oc.Dendrite.Seconds())
	p("| Dendrite CPU per room | %.0f ms | %.0f ms | |\n", ms(fc.Dendrite)/rooms, ms(oc.Dendrite)/rooms)
	p("| this process's CPU (floor client / manager) | %.1f s | %.1f s | |\n", fc.Self.Seconds(), oc.Self.Seconds())
	p("| kube-apiserver + etcd CPU | %.1f s | %.1f s | |\n", fc.ControlPlane.Seconds(), oc.ControlPlane.Seconds())
	p("| other CPU on the machine (not this benchmark's) | %.1f s | %.1f s | |\n", fc.Other.Seconds(), oc.Other.Seconds())
	p("| machine busy | %.0f%% | %.0f%% | |\n", busy(fc), busy(oc))
	p("| CPU of the run's own processes, ratio to floor | 1.00× | %.2f× | |\n", own(oc).Seconds()/own(fc).Seconds())
	p("\n")
	if f, o := foreign(fc), foreign(oc); f > noiseLimit || o > noiseLimit {
		p("> **Noisy run:** processes outside this benchmark kept %.0f%% (floor) and %.0f%% (operator) of the machine's CPUs busy, "+
			"so the wall-clock ratio says more about them than about the operator. Compare the CPU rows, or rerun on a quiet machine.\n\n",
			f, o)
	}
	p("Operator: creating the %d CollaborationSpaces took %.1f s of the converge time; the first was Ready after %.1f s. "+
		"\"Until Ready\" counts the manager's requests from the first create until every space was Ready at its generation; "+
		"\"settled\" adds what it did after that until Matrix was quiet for 3 s. "+
		"The ChatBackend's own first pass (before any space existed: %d requests) is left out of both. "+
		"Per room means per room made, space rooms included.\n\n",
		w.Spaces, op.Create.Seconds(), op.FirstReady.Seconds(), benchkit.Total(op.Setup))

	p("Reconcile passes (controller-runtime's `controller_runtime_reconcile_total`), until Ready / settled:\n\n")
	p("| controller | passes | per space | settled | per space | by result (settled) |\n|---|---:|---:|---:|---:|---|\n")
	for _, c := range sortedKeys(op.PassesSettled) {
		n, ns := sum(op.Passes[c]), sum(op.PassesSettled[c])
		p("| %s | %d | %.2f | %d | %.2f | %s |\n", c, n, float64(n)/float64(w.Spaces), ns, float64(ns)/float64(w.Spaces),
			formatCounts(op.PassesSettled[c]))
	}
	p("\n")

	p("### Operator: Matrix requests by operation\n\n")
	p("Each reconciler has its own Matrix connector here, so their requests can be told apart.\n\n")
	opTable(&b, rooms, []column{
		{"spaces, until Ready", op.Spaces},
		{"backend, until Ready", op.Backend},
		{"all, settled", op.MatrixSettled()},
	})
	p("### Floor: Matrix requests by operation\n\n")
	opTable(&b, rooms, []column{{"count", fl.Ops}})

	p("### Operator: API server requests by verb and resource\n\n")
	apiTable(&b, op.API, op.APISettled, float64(w.Spaces))

	st := r.steady
	sr, sw := benchkit.Totals(st.Matrix)
	apiWrites := st.apiWriteCount()
	p("### Steady state: one resync pass over every converged space\n\n")
	p("A fresh reconciler (its own Matrix client, a direct API client that counts writes) reconciles each of the %d spaces once, %d at a time.\n\n",
		w.Spaces, o.concurrency)
	p("| | value | target |\n|---|---:|---:|\n")
	p("| time | %.1f s (%.0f ms per space) | |\n", st.Duration.Seconds(), float64(st.Duration.Milliseconds())/float64(w.Spaces))
	p("| Matrix writes | **%d** %s | 0 |\n", sw, verdict(sw == 0))
	p("| API writes | **%d** %s | 0 |\n", apiWrites, verdict(apiWrites == 0))
	p("| events emitted | %d %s | 0 |\n", st.Events, verdict(st.Events == 0))
	p("| Matrix reads | %d (%.2f per room) | |\n", sr, float64(sr)/rooms)
	p("| failed passes | %d | 0 |\n", len(st.Errors))
	p("\n")
	if len(st.APIWrites) > 0 {
		p("API writes of the resync: ")
		for i, k := range sortedKeys(st.APIWrites) {
			if i > 0 {
				p(", ")
			}
			p("`%s` × %d", k, st.APIWrites[k])
		}
		p("\n\n")
	}
	for i, e := range st.Errors {
		if i == 3 {
			p("- … %d more\n", len(st.Errors)-3)
			break
		}
		p("- %s\n", e)
	}
	opTable(&b, rooms, []column{{"count", st.Matrix}})

	p("### Memory\n\n| | peak RSS |\n|---|---:|\n")
	p("| this process (bench, in-process manager, envtest clients) | %s (Go runtime Sys %s) |\n", benchkit.MiB(r.selfRSS), benchkit.MiB(r.goSys))
	p("| Dendrite, floor | %s |\n", benchkit.MiB(r.floorDendriteRSS))
	p("| Dendrite, operator | %s |\n\n", benchkit.MiB(r.opDendriteRSS))
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// busy is the share of the machine's CPUs a phase kept busy.
func busy(u benchkit.CPUUsage) float64 {
	if u.Wall == 0 {
		return 0
	}
	return 100 * u.Machine.Seconds() / (u.Wall.Seconds() * float64(runtime.NumCPU()))
}

// noiseLimit is the share of the machine other processes may use before a run's
// wall-clock times are flagged as unreliable.
const noiseLimit = 10

// own is the CPU the run's own processes used: Dendrite, this process, the control plane.
func own(u benchkit.CPUUsage) time.Duration { return u.Dendrite + u.Self + u.ControlPlane }

// foreign is the share of the machine's CPUs processes outside the run kept busy.
func foreign(u benchkit.CPUUsage) float64 {
	if u.Wall == 0 {
		return 0
	}
	return 100 * u.Other.Seconds() / (u.Wall.Seconds() * float64(runtime.NumCPU()))
}

func verdict(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

// column is one set of counts in an operation table.
type column struct {
	name string
	ops  []benchkit.OpStat
}

// opTable lists requests by operation, one count column per set; the last set also
// gives per-room counts, mean latency, 404s and errors.
func opTable(b *strings.Builder, rooms float64, cols []column) {
	var all []benchkit.OpStat
	byCol := make([]map[string]benchkit.OpStat, len(cols))
	for i, c := range cols {
		byCol[i] = map[string]benchkit.OpStat{}
		for _, s := range c.ops {
			byCol[i][s.Method+" "+s.Op] = s
			if !hasOp(all, s) {
				all = append(all, benchkit.OpStat{Method: s.Method, Op: s.Op})
			}
		}
	}
	last := byCol[len(cols)-1]
	sort.SliceStable(all, func(i, j int) bool { // writes first, then by the last column's count
		a, b := last[all[i].Method+" "+all[i].Op], last[all[j].Method+" "+all[j].Op]
		if all[i].IsWrite() != all[j].IsWrite() {
			return all[i].IsWrite()
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return all[i].Method+all[i].Op < all[j].Method+all[j].Op
	})
	b.WriteString("| request |")
	for _, c := range cols {
		fmt.Fprintf(b, " %s |", c.name)
	}
	b.WriteString(" per room | mean latency | 404 | errors |\n|---|")
	b.WriteString(strings.Repeat("---:|", len(cols)+4) + "\n")
	sums := make([]int64, len(cols))
	for _, s := range all {
		key := s.Method + " " + s.Op
		fmt.Fprintf(b, "| %s |", key)
		for i := range cols {
			n := byCol[i][key].Count
			sums[i] += n
			fmt.Fprintf(b, " %d |", n)
		}
		l := last[key]
		fmt.Fprintf(b, " %.2f | %s | %d | %d |\n", float64(l.Count)/rooms, latency(l), l.NotFound, l.Errors)
	}
	b.WriteString("| **total** |")
	for _, n := range sums {
		fmt.Fprintf(b, " %d |", n)
	}
	fmt.Fprintf(b, " %.2f | | | |\n\n", float64(sums[len(sums)-1])/rooms)
}

// apiTable lists the manager's API requests, writes first.
func apiTable(b *strings.Builder, ops, settled []benchkit.OpStat, spaces float64) {
	after := map[string]benchkit.OpStat{}
	for _, s := range settled {
		after[s.Method+" "+s.Op] = s
	}
	all := slices.Clone(ops)
	for _, s := range settled {
		if !hasOp(ops, s) {
			all = append(all, benchkit.OpStat{Method: s.Method, Op: s.Op})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { // writes first, then by the settled count
		if all[i].IsWrite() != all[j].IsWrite() {
			return all[i].IsWrite()
		}
		return after[all[i].Method+" "+all[i].Op].Count > after[all[j].Method+" "+all[j].Op].Count
	})
	fmt.Fprintf(b, "| request | until Ready | per space | settled | per space |\n|---|---:|---:|---:|---:|\n")
	var writes, writesAfter int64
	for _, s := range all {
		a := after[s.Method+" "+s.Op]
		if s.IsWrite() {
			writes += s.Count
			writesAfter += a.Count
		}
		fmt.Fprintf(b, "| %s %s | %d | %.2f | %d | %.2f |\n", s.Method, s.Op, s.Count, float64(s.Count)/spaces,
			a.Count, float64(a.Count)/spaces)
	}
	fmt.Fprintf(b, "| **writes** | %d | %.2f | %d | %.2f |\n\n", writes, float64(writes)/spaces, writesAfter, float64(writesAfter)/spaces)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func formatCounts(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func hasOp(ops []benchkit.OpStat, s benchkit.OpStat) bool {
	for _, o := range ops {
		if o.Method == s.Method && o.Op == s.Op {
			return true
		}
	}
	return false
}

func latency(s benchkit.OpStat) string {
	if s.Count == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f ms", float64(s.Time.Microseconds())/float64(s.Count)/1000)
}

func meanLatency(ops []benchkit.OpStat, op string) string {
	var agg benchkit.OpStat
	for _, s := range ops {
		if s.Op == op {
			agg.Count += s.Count
			agg.Time += s.Time
		}
	}
	return latency(agg)
}
