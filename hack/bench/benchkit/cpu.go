package benchkit

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc's CPU times (USER_HZ), 100 on every Linux port.
const clockTick = 10 * time.Millisecond

// cpuSample is a point-in-time reading of CPU time spent, from /proc (Linux; zeros
// elsewhere). Differences of two samples say where a phase's CPU went, which is
// what makes runs on a shared machine comparable: a Dendrite that burns the same CPU
// per room on both sides did the same work, however long the wall clock took.
type CPUSample struct {
	machine      time.Duration // busy time of all CPUs
	dendrite     time.Duration // the side's Dendrite
	self         time.Duration // this process: bench, floor client, manager
	controlPlane time.Duration // kube-apiserver and etcd
}

// cpuUsage is what a phase used.
type CPUUsage struct {
	Wall                                         time.Duration
	Machine, Dendrite, Self, ControlPlane, Other time.Duration
}

// cpuProbe knows the processes whose CPU time is reported.
type CPUProbe struct {
	Dendrite     int
	ControlPlane []int
}

func (p CPUProbe) Sample() CPUSample {
	s := CPUSample{machine: machineBusy(), dendrite: processCPU(p.Dendrite), self: processCPU(os.Getpid())}
	for _, pid := range p.ControlPlane {
		s.controlPlane += processCPU(pid)
	}
	return s
}

func (s CPUSample) Since(start CPUSample, wall time.Duration) CPUUsage {
	u := CPUUsage{
		Wall:         wall,
		Machine:      s.machine - start.machine,
		Dendrite:     s.dendrite - start.dendrite,
		Self:         s.self - start.self,
		ControlPlane: s.controlPlane - start.controlPlane,
	}
	u.Other = max(u.Machine-u.Dendrite-u.Self-u.ControlPlane, 0)
	return u
}

// processCPU is a process's user + system time.
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it do not.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 { // utime and stime are fields 14 and 15 of stat, 12 and 13 here
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick
}

// machineBusy is the time all CPUs spent not idle since boot.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest times are already in user
			break
		}
		busy += n
	}
	return time.Duration(busy) * clockTick
}

// dendritePID finds the Dendrite whose command line names the configuration in
// dir; 0 when there is none (or no /proc).
func DendritePID(dir string) int { return FindPID(filepath.Join(dir, "dendrite.yaml")) }

// findPID finds the process whose command line holds the given string, which
// names a directory only one process of this run uses; 0 when there is none.
func FindPID(arg string) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	want := []byte(arg)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, want) {
			return pid
		}
	}
	return 0
}

// peakRSS is a process's peak resident set (VmHWM).
func PeakRSS(pid int) uint64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
