package eventrecorder

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

const (
	outcomeCreated = "created"
	outcomeFolded  = "folded"
	outcomeDropped = "dropped"
	outcomeFailed  = "failed"
)

// eventsTotal counts the events recorded, by what became of them.
var eventsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "collab_events_total",
	Help: "Kubernetes events the operator recorded, by outcome: created, folded (a repeat counted into the series of one created before), dropped (the queue was full: the API server did not keep up), failed (the API server refused or did not answer).",
}, []string{"outcome"})

func init() { crmetrics.Registry.MustRegister(eventsTotal) }

func countEvent(outcome string) { eventsTotal.WithLabelValues(outcome).Inc() }
