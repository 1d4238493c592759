//go:build !linux

package dendrite

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }

// lock is a no-op where flock is unavailable; concurrent first builds may then
// race.
func lock(string) (func(), error) { return func() {}, nil }
