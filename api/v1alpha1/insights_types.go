package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// SpaceInsights is a space's choice about the openness insights.
type SpaceInsights struct {
	// Enabled: false opts the space out.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
}

// InsightsEnabled reports whether the space counts in the openness insights.
func (s *CollaborationSpace) InsightsEnabled() bool {
	return s.Spec.Insights == nil || s.Spec.Insights.Enabled == nil || *s.Spec.Insights.Enabled
}

// InsightsStatus are a space's openness figures: counts and shares only, never
// a figure about one person, and none that rests on fewer distinct people than
// the minimum (5, or more where a CollaborationPolicy's spec.insights.minPeople
// says so): those are left out and named in suppressed. They are not a
// condition: they say nothing of whether the space is healthy.
type InsightsStatus struct {
	// ChangedAt is when these figures were computed.
	// A refresh that finds the same figures leaves them, and this time, as they
	// are, so a quiet organisation causes no writes; the figures are as fresh
	// as the manager's last refresh (--insights-interval).
	ChangedAt metav1.Time `json:"changedAt"`
	// Week is the 7 days before changedAt, Month the 30.
	Week  InsightsWindow `json:"week"`
	Month InsightsWindow `json:"month"`
	// Incomplete says some of the space's rooms, or its forum, held more
	// history than the manager reads: their oldest messages or posts in the
	// window are not counted.
	// +optional
	Incomplete bool `json:"incomplete,omitempty"`
}

// InsightsWindow are the figures of one window. A figure that is absent was
// suppressed (see suppressed) or has nothing to rest on.
type InsightsWindow struct {
	// Messages sent in the space's rooms, and ActivePeople who sent them.
	// +optional
	Messages *int32 `json:"messages,omitempty"`
	// +optional
	ActivePeople *int32 `json:"activePeople,omitempty"`
	// BreadthPercent is the share of the department's own people who took part.
	// +optional
	BreadthPercent *int32 `json:"breadthPercent,omitempty"`
	// Reach counts the people of other departments (or of none) who took part;
	// ReachSharePercent is their share of the messages.
	// +optional
	Reach *int32 `json:"reach,omitempty"`
	// +optional
	ReachSharePercent *int32 `json:"reachSharePercent,omitempty"`
	// CrossAnswers are answers where the person answering and the person
	// answered share no department.
	// +optional
	CrossAnswers *int32 `json:"crossAnswers,omitempty"`
	// LeadersPercent is the share of the space's Owners who took part.
	// +optional
	LeadersPercent *int32 `json:"leadersPercent,omitempty"`
	// ForumTopics opened and ForumPosts made in the space's forum categories
	// (a shared forum's or its deployed forum's); absent without a forum.
	// +optional
	ForumTopics *int32 `json:"forumTopics,omitempty"`
	// +optional
	ForumPosts *int32 `json:"forumPosts,omitempty"`
	// Suppressed names the figures left out because they rest on too few people.
	// +optional
	// +listType=atomic
	Suppressed []string `json:"suppressed,omitempty"`
}
