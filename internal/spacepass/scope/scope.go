package scope

import (
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/outcome"
)

// Scope carries one reconcile pass over one space: the object as read, the
// object being changed, and what the phases learned.
type Scope struct {
	Space  *collabv1.CollaborationSpace
	Before *collabv1.CollaborationSpace
	// Members are the people the Group members resolved to, and the removal
	// budget of the pass (RemovalBudget).
	Members *MemberResolution
	// PeopleLimit is the policies' bound on the people the groups resolve to,
	// nil when none bounds it (the space's CollaborationPolicies).
	PeopleLimit *PeopleLimit
	// Now is when the pass started; grace is how long a converged space rides
	// over a server's passing fault before it turns Ready=False.
	Now   time.Time
	Grace time.Duration
	// Answers is when the phases' servers last answered a pass (AnswerClock).
	Answers *AnswerClock
	// Errs are the phases' failures, classified (package outcome).
	Errs []*outcome.Error
	// drift describes what the pass put back after it was changed by hand;
	// aliasMoved the aliases that point away from the rooms in status. Drifted
	// is derived from both, once, in summarize.
	Drift, AliasMoved []string
}

// SetCondition sets a condition at the object's current generation. Its transition
// time only moves when its status does, so an unchanged pass writes nothing.
func SetCondition(space *collabv1.CollaborationSpace, condType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&space.Status.Conditions, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: space.Generation,
	})
}

// Fail records a failed phase on the condition it owns and returns the classified
// error for the pass. A passing fault of a server (classify's transient) in a phase
// that was True at this generation leaves the condition True for up to the grace
// period: a converged space keeps Ready through a single 502, and the fault shows
// in Reconciling and a Warning event instead.
func (s *Scope) Fail(condition, reason string, err error) error {
	if apierrors.IsConflict(err) {
		return err // a lost write race: retried quietly, no user's concern
	}
	e := outcome.Classify(condition, reason, err)
	if !e.Transient || !s.WithinGrace(condition) {
		SetCondition(s.Space, condition, metav1.ConditionFalse, e.Reason, e.Message())
	}
	return e
}

// WithinGrace reports whether a phase's condition was True at this generation
// and the fault under way is younger than the grace period. The fault is
// counted from when Reconciling turned True, or from when the phase's server
// last answered a pass, when that is later (AnswerClock).
func (s *Scope) WithinGrace(condition string) bool {
	c := meta.FindStatusCondition(s.Before.Status.Conditions, condition)
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != s.Space.Generation {
		return false
	}
	var reconcilingSince, lastAnswer time.Time
	if rec := meta.FindStatusCondition(s.Before.Status.Conditions, collabv1.ReconcilingCondition); rec != nil &&
		rec.Status == metav1.ConditionTrue {
		reconcilingSince = rec.LastTransitionTime.Time
	}
	if s.Answers != nil {
		lastAnswer = s.Answers.Last(client.ObjectKeyFromObject(s.Space), condition)
	}
	return faultUnderWay(s.Now, reconcilingSince, lastAnswer) < s.Grace
}

// Heard records that the server of the phase owning condition answered during
// this pass, even if the pass then met a fault.
func (s *Scope) Heard(condition string) {
	if s.Answers != nil {
		s.Answers.Heard(client.ObjectKeyFromObject(s.Space), condition, s.Now)
	}
}

// Counted says "1 room", "2 rooms", "0 categories".
func Counted(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// UnchangedSpec reports whether the spec is the one last reconciled in full: then a
// difference on a backend was made by hand, not asked for. A generation that was
// only judged (Stalled) was not carried out, so what its next pass changes is the
// spec catching up, not drift.
func (s *Scope) UnchangedSpec() bool {
	before := s.Before.Status
	ready := meta.FindStatusCondition(before.Conditions, collabv1.ReadyCondition)
	return before.ObservedGeneration == s.Space.Generation && ready != nil && ready.Status == metav1.ConditionTrue
}
