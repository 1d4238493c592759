package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The openness insights (controllers/openness). Their cardinality is bounded
// by the spaces and by the pairs of departments that answered each other: no
// label names a person, and a figure that rests on too few people has no
// series at all.
var (
	// SpaceInsight is one of a space's openness figures over a window (7d,
	// 30d): messages, activePeople, reach and crossAnswers as counts; breadth,
	// reachShare and leaders as ratios from 0 to 1.
	SpaceInsight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "collab_space_insight",
		Help: "A space's openness figure over a window: counts, or ratios from 0 to 1 for breadth, reachShare and leaders.",
	}, []string{"namespace", "space", "window", "figure"})
	// DepartmentAnswers counts the answers people of department from sent to
	// people of department to over a window ("namespace/name", or "(outside)"
	// for people no space declares).
	DepartmentAnswers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "collab_department_answers",
		Help: "Answers sent by people of one department to people of another over a window.",
	}, []string{"window", "from", "to"})
	// OpenConversationShare is the share of all messages counted that were
	// sent in Open spaces' rooms or in shared rooms.
	OpenConversationShare = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "collab_open_conversation_share",
		Help: "Share of all messages counted that were sent in Open spaces' rooms or in shared rooms, over a window.",
	}, []string{"window"})
	// InsightsMessagesCounted counts the messages the insights counted, from a
	// ChatBackend's stream or its rooms' past.
	InsightsMessagesCounted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "collab_insights_messages_counted_total",
		Help: "Messages the openness insights counted, from a ChatBackend's stream or its rooms' history.",
	}, []string{"backend"})
	// InsightsChatRequests counts the requests the insights made of a chat
	// server besides its stream: a room's past read when the stream starts
	// (past), the messages a burst left out of a batch (gap), who sent an
	// answered message not counted lately (sender). None in a steady state of
	// moderate talk.
	InsightsChatRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "collab_insights_chat_requests_total",
		Help: "Requests the openness insights made of a chat server besides its stream, by reason: past, gap, sender.",
	}, []string{"backend", "reason"})
	// InsightsRefreshed is when the insights were last computed.
	InsightsRefreshed = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "collab_insights_last_refresh_timestamp_seconds",
		Help: "When the openness insights were last computed, in seconds since the epoch.",
	})
)

func init() {
	crmetrics.Registry.MustRegister(SpaceInsight, DepartmentAnswers, OpenConversationShare, InsightsRefreshed,
		InsightsMessagesCounted, InsightsChatRequests)
}
