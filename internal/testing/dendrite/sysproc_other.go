//go:build !linux

package dendrite

// lock is a no-op where flock is unavailable; concurrent first builds may then
// race.
func lock(string) (func(), error) { return func() {}, nil }
