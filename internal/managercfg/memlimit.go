package managercfg

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
)

// MemoryLimitEnv names the container's memory limit in bytes, which the
// Deployment passes from limits.memory through the downward API.
const MemoryLimitEnv = "COLLAB_MEMORY_LIMIT"

// binaryReserve is what the manager leaves of its container's memory limit
// for the pages of its own binary and what Go's limit does not bound: 43-53
// MiB of the binary resident and up to 6 MiB more anonymous memory than the
// soft limit at the peak (hack/bench -mode scale at 10,000 spaces: a 150 MiB
// container, a 90 MiB soft limit, peaked at 130-140 MiB resident, and
// 145-156 after a restart). The container's memory is charged for both: with Go's
// soft limit at the container's, the collector would let garbage crowd out the
// binary's code before it worked harder. The binary's pages are the file's,
// which the kernel drops and reads again before it kills anything.
const binaryReserve = 60 << 20

// SoftMemoryLimit is Go's soft memory limit for a container limit: the limit
// less binaryReserve, never under half of it.
func SoftMemoryLimit(containerLimit int64) int64 {
	return max(containerLimit-binaryReserve, containerLimit/2)
}

// SetSoftMemoryLimit sets Go's soft memory limit from the container's (the
// MemoryLimitEnv variable) and returns it; 0 when GOMEMLIMIT is set, which
// wins, or when no container limit is given.
func SetSoftMemoryLimit() (int64, error) {
	v := os.Getenv(MemoryLimitEnv)
	if v == "" || os.Getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	limit, err := strconv.ParseInt(v, 10, 64)
	if err != nil || limit <= 0 {
		return 0, fmt.Errorf("%s=%q is not a number of bytes", MemoryLimitEnv, v)
	}
	soft := SoftMemoryLimit(limit)
	debug.SetMemoryLimit(soft)
	return soft, nil
}
