package metrics

import "github.com/prometheus/client_golang/prometheus"

// SetOrDelete sets a gauge's series, or deletes it at zero: a series costs the
// manager about 600 bytes, so per-space gauges that are 0 for most spaces (no
// removals held, no owners from groups) would cost megabytes at 10,000 spaces
// to say nothing. An absent series is 0 in any sum.
func SetOrDelete(g *prometheus.GaugeVec, v float64, labels ...string) {
	if v == 0 {
		g.DeleteLabelValues(labels...)
		return
	}
	g.WithLabelValues(labels...).Set(v)
}

// ForgetSpace deletes every series of a space, when the space is gone.
func ForgetSpace(namespace, name string) {
	space := prometheus.Labels{"namespace": namespace, "name": name}
	ManagedRooms.Delete(space)
	ManagedCategories.Delete(space)
	RemovalsHeld.Delete(space)
	SpacePeople.Delete(space)
}
