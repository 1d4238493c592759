// Package metrics defines the operator's Prometheus metrics, served on the manager's
// metrics endpoint beside controller-runtime's own.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// DriftCorrections counts fields put back after someone changed them by hand on
	// a backend.
	DriftCorrections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "collab_drift_corrections_total",
		Help: "Fields of backend objects put back after they were changed outside the operator.",
	}, []string{"backend", "kind", "field"})

	// BackendRequests counts requests to chat servers and forums.
	BackendRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "collab_backend_requests_total",
		Help: "Requests made to chat servers and forums, by backend, operation and HTTP status (0: no answer).",
	}, []string{"backend", "operation", "code"})

	// BackendRequestDuration measures requests to chat servers and forums.
	BackendRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "collab_backend_request_duration_seconds",
		Help:    "Duration of requests to chat servers and forums.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"backend", "operation"})

	// ManagedRooms is the number of rooms (spaces included) the operator keeps.
	ManagedRooms = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "collab_managed_rooms",
		Help: "Chat rooms, spaces included, kept by the operator, by CollaborationSpace.",
	}, []string{"namespace", "name"})

	// SyncWakeups counts spaces woken by a change the chat server's stream reported.
	SyncWakeups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "collab_sync_wakeups_total",
		Help: "Spaces woken because the chat server's sync stream reported a change by someone else in one of their rooms.",
	}, []string{"backend"})

	// OrphanRooms counts the rooms the reaper judged, by what became of them.
	OrphanRooms = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "collab_orphan_rooms_total",
		Help: "Rooms the operator made that no space records, by what the reaper did: adopted (the alias pointed back at them), deleted (never held anything), kept (had members or a space recorded them: never deleted), reported (spec.reaper.mode forbade acting), held (the hourly deletion cap).",
	}, []string{"backend", "action"})

	// ManagedCategories is the number of forum categories the operator keeps.
	ManagedCategories = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "collab_managed_categories",
		Help: "Forum categories kept by the operator, by CollaborationSpace.",
	}, []string{"namespace", "name"})
)

func init() {
	crmetrics.Registry.MustRegister(DriftCorrections, BackendRequests, BackendRequestDuration, ManagedRooms, ManagedCategories, SyncWakeups, OrphanRooms)
}

// ObserveRequest records one backend request.
func ObserveRequest(backend, operation string, status int, d time.Duration) {
	BackendRequests.WithLabelValues(backend, operation, strconv.Itoa(status)).Inc()
	BackendRequestDuration.WithLabelValues(backend, operation).Observe(d.Seconds())
}
