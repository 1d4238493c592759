package eventrecorder

import dto "github.com/prometheus/client_model/go"

// counted is collab_events_total{outcome} now.
func counted(outcome string) float64 {
	var m dto.Metric
	if err := eventsTotal.WithLabelValues(outcome).Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
