// Command bench is `make bench`: it measures how fast the operator turns
// CollaborationSpaces into Matrix rooms, against a floor that makes the same rooms
// with the fewest Matrix requests, in one run on this machine.
//
// It starts a real kube-apiserver + etcd (envtest) and two fresh Dendrite homeservers
// with the same configuration, one per side, so both start from an empty server.
//
//  1. Floor: a minimal client (floor.go) makes N spaces of R rooms with one
//     createRoom per room and one m.space.child per room, with keep-alive HTTP.
//  2. Operator: the real manager, wired as main.go wires it, runs in this process;
//     N CollaborationSpaces are created and the time until all are Ready is taken.
//  3. Steady state: a fresh reconciler passes over every space once; a resync of
//     converged spaces should write nothing, to Matrix or to the API server.
//
// -mode secrets measures something else: whether the manager's memory grows with the
// Secrets tenants create (secrets.go). -mode directory measures a directory of
// 10,000 people in 200 groups on a real slapd (directory.go). -mode scale measures
// the manager's memory, time to converge and writes for many departments with
// permissions only, e.g. -spaces 10000 (scale.go).
//
// The results are printed as Markdown on stdout (progress goes to stderr); see
// docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/hack/bench/managerbench"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

type options struct {
	managerbench.Options
	mode             string
	shareProbes      int
	concurrency      int
	floorConcurrency int
	kubeQPS          float32
	kubeBurst        int
	pollInterval     time.Duration
	floorState       string
	verbose          bool
	// streamWindow > 0 measures the cost and speed of keeping rooms true after
	// convergence (stream.go); probes is how many changes and edits to time.
	streamWindow time.Duration
	probes       int
	// floodWindow > 0 also floods the drift space with display name changes
	// from floodClients clients (flood.go).
	floodWindow  time.Duration
	floodClients int
	// insightsRate > 0 measures counting the openness insights from the
	// stream while the spaces' Owners say that many messages a second, for
	// insightsWindow a side (insights.go).
	insightsRate   float64
	insightsWindow time.Duration
}

func main() {
	var o options
	var qps float64
	flag.IntVar(&o.Spaces, "spaces", 200, "How many CollaborationSpaces (departments) to make.")
	flag.IntVar(&o.Rooms, "rooms", 5, "How many rooms each space declares.")
	flag.IntVar(&o.Owners, "owners", 10, "How many people lead the departments (each gets invites).")
	flag.IntVar(&o.concurrency, "concurrency", 4, "The operator's --max-concurrent-reconciles.")
	flag.IntVar(&o.floorConcurrency, "floor-concurrency", 0, "Workers of the floor client; -concurrency when 0.")
	flag.StringVar(&o.floorState, "floor-state", "full",
		"full: the floor's rooms get the same state events as the operator's; minimal: without the operator's bookkeeping (history visibility, guest access, owner marker).")
	flag.Float64Var(&qps, "kube-qps", 20, "The manager's API client QPS (20, burst 30, is what ctrl.GetConfig gives main.go).")
	flag.IntVar(&o.kubeBurst, "kube-burst", 30, "The manager's API client burst.")
	flag.DurationVar(&o.pollInterval, "poll-interval", time.Hour,
		"The ChatBackend's pollInterval; long, so periodic resyncs stay out of the converge time.")
	flag.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "How long to wait for the operator to converge.")
	flag.StringVar(&o.Out, "o", "", "Also write the Markdown report to this file.")
	flag.DurationVar(&o.streamWindow, "stream-window", 0,
		"After convergence, count the Matrix requests of an idle window this long, then time hand-made changes and spec edits (0: skip).")
	flag.IntVar(&o.probes, "probes", 50, "How many hand-made changes and spec edits -stream-window times.")
	flag.DurationVar(&o.floodWindow, "flood-window", 0,
		"With -stream-window: how long a space's Owner changes their display name as fast as the server answers, "+
			"counting the space's passes and the operator's Matrix requests (issue 19, finding 3).")
	flag.IntVar(&o.floodClients, "flood-clients", 2, "With -flood-window: clients changing the display name side by side.")
	flag.IntVar(&o.shareProbes, "share-probes", 20, "How many shared rooms -stream-window times: from the Ready of the space a room is shared with to its member's join.")
	flag.Float64Var(&o.insightsRate, "insights-rate", 0,
		"After convergence, measure the stream with and without counting the openness insights while the spaces' Owners say this many messages a second (0: skip).")
	flag.DurationVar(&o.insightsWindow, "insights-window", time.Minute, "With -insights-rate: how long each side runs.")
	flag.BoolVar(&o.verbose, "v", false, "Log the manager at info level.")
	flag.StringVar(&o.mode, "mode", "chat",
		"chat: the operator against the floor; secrets: the manager's memory as tenants create Secrets labelled as the operator's; "+
			"directory: a directory of -people in -groups; scale: the manager's memory and time for -spaces departments, permissions only.")
	flag.IntVar(&o.Secrets.Count, "secrets", 500, "-mode secrets: how many Secrets the tenants create.")
	flag.IntVar(&o.Secrets.Size, "secret-size", 100<<10, "-mode secrets: bytes of data in each Secret.")
	flag.DurationVar(&o.Secrets.Wait, "secrets-wait", time.Minute, "-mode secrets: how long to wait after the last Secret before measuring.")
	flag.StringVar(&o.Secrets.Manager, "manager", "", "-mode secrets: a manager binary to measure; this checkout's, built, when empty.")
	flag.StringVar(&managerbench.ManagerMemLimit, "manager-gomemlimit", "256MiB",
		"GOMEMLIMIT of the manager process, as the Deployment sets it 50 MiB under its memory limit; none when empty.")
	flag.StringVar(&o.Secrets.Label, "label", "this checkout", "-mode secrets: names the measured manager in the report.")
	flag.IntVar(&o.Directory.People, "people", 10000, "-mode directory: people in the directory.")
	flag.IntVar(&o.Directory.Groups, "groups", 200, "-mode directory: groups (and spaces, one per group).")
	flag.DurationVar(&o.Directory.Poll, "directory-poll", 5*time.Second, "-mode directory: the PeopleDirectory's pollInterval.")
	flag.IntVar(&o.Directory.SteadyPolls, "steady-polls", 6, "-mode directory: polls of an unchanged directory to count.")
	flag.IntVar(&o.Scale.Members, "members", 20, "-mode scale: User members of each space.")
	flag.DurationVar(&o.Scale.Steady, "steady", 20*time.Second, "-mode scale: how long to count writes once every space is Ready.")
	flag.IntVar(&o.Scale.Shards, "shards", 1, "-mode scale: spread the spaces over this many shards (the shard label) and measure the manager of the first.")
	flag.IntVar(&o.Scale.DirectoryPeople, "directory-people", 0, "-mode scale: a directory of this many people in groups of 20, one group a member of each space; none when 0.")
	flag.BoolVar(&o.Scale.Restart, "restart", true, "-mode scale: restart the manager after the steady state and measure its first pass over every space.")
	flag.IntVar(&o.Scale.Creators, "creators", 8, "-mode scale: clients creating namespaces and spaces side by side.")
	flag.Parse()
	o.kubeQPS = float32(qps)
	if o.floorConcurrency == 0 {
		o.floorConcurrency = o.concurrency
	}
	if o.floorState != "full" && o.floorState != "minimal" {
		fmt.Fprintln(os.Stderr, "bench: -floor-state must be full or minimal")
		os.Exit(2)
	}
	if o.Spaces < 1 || o.Rooms < 1 || o.Owners < 1 || o.concurrency < 1 {
		fmt.Fprintln(os.Stderr, "bench: -spaces, -rooms, -owners and -concurrency must be at least 1")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch o.mode {
	case "chat":
		err = run(ctx, o)
	case "secrets":
		err = managerbench.RunSecrets(ctx, o.Options)
	case "directory":
		err = managerbench.RunDirectory(ctx, o.Options)
	case "scale":
		err = managerbench.RunScale(ctx, o.Options)
	default:
		fmt.Fprintln(os.Stderr, "bench: -mode must be chat, secrets, directory or scale")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	level := zapcore.ErrorLevel
	if o.verbose {
		level = zapcore.InfoLevel
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(level)))
	w := benchkit.Workload{Spaces: o.Spaces, Rooms: o.Rooms, Owners: min(o.Owners, o.Spaces)}

	benchkit.Progress("starting kube-apiserver + etcd (envtest)")
	env, cfg, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return err
	}

	benchkit.Progress("starting two fresh Dendrites (floor, operator)")
	floorHS, floorToken, err := startHomeserver(ctx, w)
	if err != nil {
		return err
	}
	defer func() { _ = floorHS.Stop() }()
	opHS, opToken, err := startHomeserver(ctx, w)
	if err != nil {
		return err
	}
	defer func() { _ = opHS.Stop() }()

	rep := report{opts: o, w: w, started: time.Now()}

	benchkit.Progress("floor: %d spaces x %d rooms, %d workers", w.Spaces, w.Rooms, o.floorConcurrency)
	fc := newFloorClient(floorHS.URL, floorHS.ServerName, "@collab-operator:"+floorHS.ServerName, floorToken, o.floorConcurrency, o.floorState == "full")
	controlPlane := []int{benchkit.FindPID("--cert-dir=" + env.ControlPlane.APIServer.CertDir), benchkit.FindPID("--data-dir=" + env.ControlPlane.Etcd.DataDir)}
	floorProbe := benchkit.CPUProbe{Dendrite: benchkit.DendritePID(floorHS.Dir), ControlPlane: controlPlane}
	cpu0 := floorProbe.Sample()
	if rep.floor, err = runFloor(ctx, fc, w, o.floorConcurrency); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	rep.floorCPU = floorProbe.Sample().Since(cpu0, rep.floor.Duration)
	rep.floorDendriteRSS = benchkit.PeakRSS(floorProbe.Dendrite)
	benchkit.Progress("floor: %s", rep.floor.Duration.Round(time.Millisecond))
	_ = floorHS.Stop() // idle from here on; keep its CPU and memory out of the operator's run

	benchkit.Progress("operator: %d spaces x %d rooms, %d workers", w.Spaces, w.Rooms, o.concurrency)
	opProbe := benchkit.CPUProbe{Dendrite: benchkit.DendritePID(opHS.Dir), ControlPlane: controlPlane}
	if rep.operator, err = runOperator(ctx, cfg, direct, opHS, opToken, opProbe, w, o); err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	benchkit.Progress("operator: %s", rep.operator.Converge.Round(time.Millisecond))

	benchkit.Progress("steady state: one resync pass over %d spaces", w.Spaces)
	if rep.steady, err = runSteady(ctx, cfg, w, o.concurrency); err != nil {
		return fmt.Errorf("steady state: %w", err)
	}
	rep.opDendriteRSS = benchkit.PeakRSS(opProbe.Dendrite)
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	rep.selfRSS, rep.goSys = benchkit.PeakRSS(os.Getpid()), mem.Sys
	if err := verifyRooms(ctx, direct, w); err != nil {
		return err
	}

	md := rep.markdown() + rep.operator.Stream.markdown() + rep.operator.Insights.markdown()
	fmt.Print(md)
	if o.Out != "" {
		if err := os.WriteFile(o.Out, []byte(md), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// startHomeserver starts a throwaway Dendrite and registers the operator's admin
// account and the departments' leads, who receive invites.
func startHomeserver(ctx context.Context, w benchkit.Workload) (*dendrite.Server, string, error) {
	hs, err := dendrite.Start(ctx, dendrite.Options{})
	if err != nil {
		return nil, "", fmt.Errorf("cannot start Dendrite: %w", err)
	}
	_, token, err := hs.RegisterUser(ctx, "collab-operator", "password-collab-operator", true)
	if err != nil {
		_ = hs.Stop()
		return nil, "", err
	}
	for i := range w.Owners {
		lp := w.OwnerLocalpart(i)
		if _, _, err := hs.RegisterUser(ctx, lp, "password-"+lp, false); err != nil {
			_ = hs.Stop()
			return nil, "", err
		}
	}
	return hs, token, nil
}

// verifyRooms checks that every space reports its rooms, so a fast run cannot be a
// run that skipped work.
func verifyRooms(ctx context.Context, c client.Client, w benchkit.Workload) error {
	for i := range w.Spaces {
		s := w.Space(i, benchBackend)
		if err := c.Get(ctx, client.ObjectKeyFromObject(s), s); err != nil {
			return err
		}
		if s.Status.Chat == nil || s.Status.Chat.SpaceID == "" || len(s.Status.Chat.Rooms) != w.Rooms {
			return fmt.Errorf("space %s is Ready but its status lists no space or not %d rooms", s.Name, w.Rooms)
		}
	}
	return nil
}
