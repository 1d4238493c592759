package drills

import (
	"flag"
	"os"
	"strconv"
	"testing"
)

// soakEnv is the environment variable that chooses how the drills run.
//
// In `make test` (unset) every drill runs, with every assertion, over short
// windows, and the drills run side by side: the storm, the longest, from the
// start, and the others two at a time beside it (parallel). A drill's own time
// bounds are the same either way; its measured numbers (the "drill result" lines)
// are then taken on a shared machine.
//
// COLLAB_DRILLS=soak (`make drills`) runs them one at a time with the long soak
// windows the results in docs/benchmarks.md were measured with.
const soakEnv = "COLLAB_DRILLS"

// soak reports whether the long windows were asked for.
var soak = os.Getenv(soakEnv) == "soak"

// window is short in `make test`, long under COLLAB_DRILLS=soak.
func window[T any](short, long T) T {
	if soak {
		return long
	}
	return short
}

// besideTheStorm is how many drills other than the storm run at once.
const besideTheStorm = 2

// slots holds one token per running drill other than the storm.
var slots = make(chan struct{}, besideTheStorm)

// parallel lets a drill run beside the others, unless soaking: the storm runs
// from the start (storm is true), the others take one of the slots.
func parallel(t *testing.T, storm bool) {
	if soak {
		return
	}
	t.Parallel()
	if storm {
		return
	}
	slots <- struct{}{}
	t.Cleanup(func() { <-slots })
}

// allowParallel lifts go test's own limit on parallel tests (-parallel,
// GOMAXPROCS by default: 2 here), unless the command line set it, so that the
// slots above decide: a drill waiting for a slot holds one of go test's, which
// must not keep the storm from starting.
func allowParallel() {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(maxDrills))
	}
}

// maxDrills is more than the number of drills.
const maxDrills = 16
