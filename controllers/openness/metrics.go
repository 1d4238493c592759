package openness

import (
	"strings"

	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/metrics"
)

// publish replaces the insights' series with the reports': a space that
// left, or a figure now suppressed, has no series any more.
func publish(reports map[window]insights.Report) {
	metrics.SpaceInsight.Reset()
	metrics.DepartmentAnswers.Reset()
	metrics.OpenConversationShare.Reset()
	for w, r := range reports {
		for key, f := range r.Spaces {
			ns, name, _ := strings.Cut(key, "/")
			for _, fig := range figuresOf(f) {
				if !fig.value.Suppressed {
					metrics.SpaceInsight.WithLabelValues(ns, name, w.name, fig.name).Set(fig.value.Value)
				}
			}
		}
		for from, row := range r.Answers {
			for to, f := range row {
				if !f.Suppressed {
					metrics.DepartmentAnswers.WithLabelValues(w.name, from, to).Set(f.Value)
				}
			}
		}
		if !r.OpenShare.Suppressed {
			metrics.OpenConversationShare.WithLabelValues(w.name).Set(r.OpenShare.Value)
		}
	}
}
