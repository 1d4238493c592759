package managercfg

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestSoftMemoryLimit(t *testing.T) {
	const mi = 1 << 20
	cases := map[string]struct{ container, want int64 }{
		"the default 256 MiB leaves 60 MiB to the binary": {256 * mi, 196 * mi},
		"150 MiB for 10,000 spaces":                       {150 * mi, 90 * mi},
		"a small limit keeps half for Go":                 {64 * mi, 32 * mi},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := SoftMemoryLimit(tc.container); got != tc.want {
				t.Errorf("SoftMemoryLimit(%d MiB) = %d MiB, want %d MiB", tc.container/mi, got/mi, tc.want/mi)
			}
		})
	}
}

func TestSetSoftMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv(MemoryLimitEnv, "268435456")
	if got, err := SetSoftMemoryLimit(); err != nil || got != 196<<20 || debug.SetMemoryLimit(-1) != 196<<20 {
		t.Errorf("SetSoftMemoryLimit() = %d, %v; Go's limit %d; want 196 MiB", got, err, debug.SetMemoryLimit(-1))
	}
	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "100MiB")
	if got, err := SetSoftMemoryLimit(); err != nil || got != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set, SetSoftMemoryLimit() = %d, %v and changed Go's limit", got, err)
	}
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv(MemoryLimitEnv, "lots")
	if _, err := SetSoftMemoryLimit(); err == nil {
		t.Error("SetSoftMemoryLimit() took lots for a number of bytes")
	}
}
