package spacepass

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/outcome"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
	"github.com/opencommons/collab-operator/internal/statuspatch"
)

// phaseConditions are summarised into Ready, in the order a user reads them.
var phaseConditions = []string{
	collabv1.PolicyCompliantCondition,
	collabv1.PermissionsReadyCondition,
	collabv1.ChatReadyCondition,
	collabv1.ForumReadyCondition,
}

// summarize sets Ready, Reconciling, Stalled and Drifted from the phase conditions
// and the pass's classified errors, the way kstatus reads them: Ready=True and
// neither of the others when done; Stalled=True when every error is terminal;
// Reconciling=True while retrying. A converged space riding over a passing fault
// keeps Ready=True and says so in Reconciling.
func summarize(s *scope.Scope) {
	space, errs := s.Space, s.Errs
	notReady := notReadyConditions(space)
	switch {
	case len(errs) == 0 && len(notReady) == 0:
		scope.SetCondition(space, collabv1.ReadyCondition, metav1.ConditionTrue, collabv1.ReasonSucceeded, readyMessage(space))
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ReconcilingCondition)
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.StalledCondition)
		space.Status.ObservedGeneration = space.Generation
	case len(errs) > 0 && allTerminal(errs):
		first := firstProblem(notReady, errs)
		scope.SetCondition(space, collabv1.ReadyCondition, metav1.ConditionFalse, first.Reason, first.Message)
		scope.SetCondition(space, collabv1.StalledCondition, metav1.ConditionTrue, first.Reason, whatToChange(first))
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ReconcilingCondition)
		// The spec was read and judged: a user waiting on this generation has an answer.
		space.Status.ObservedGeneration = space.Generation
	case len(notReady) == 0:
		first := errs[0]
		scope.SetCondition(space, collabv1.ReconcilingCondition, metav1.ConditionTrue, first.Reason,
			fmt.Sprintf("%s; Ready holds while the fault lasts less than %s", first.Message(), s.Grace))
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.StalledCondition)
	default:
		first := firstProblem(notReady, errs)
		scope.SetCondition(space, collabv1.ReadyCondition, metav1.ConditionFalse, first.Reason, first.Message)
		scope.SetCondition(space, collabv1.ReconcilingCondition, metav1.ConditionTrue, first.Reason, first.Message)
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.StalledCondition)
		// The conditions describe this generation, and Ready=False says it is not
		// done: kstatus (Flux's wait, kubectl wait, Argo CD) then shows Reconciling's
		// reason, e.g. SharedSpacePending, instead of only "generation is 3, but
		// latest observed generation is 2".
		space.Status.ObservedGeneration = space.Generation
	}
	summarizeDrift(s)
}

// whatToChange is Stalled's message: one sentence that tells a department lead
// what to change. The full detail stays in Ready's message and in the Warning
// event announceTrouble emits.
func whatToChange(c metav1.Condition) string {
	detail := firstClause(c.Message)
	switch c.Reason {
	case collabv1.ReasonAliasConflict:
		if alias := firstAlias(c.Message); alias != "" {
			return "Rename the room or the space, or ask the chat server's admin to free " + alias +
				": a room this space did not make holds it."
		}
		return "Rename the room or the space: an alias it needs is held by a room this space did not make."
	case collabv1.ReasonPolicyViolation:
		return "Change the space to follow its CollaborationPolicy (see PolicyCompliant for every rule it breaks): " +
			strings.TrimPrefix(detail, "Nothing is changed until the space or the policy is: ") + "."
	case collabv1.ReasonForumConflict, collabv1.ReasonNameConflict:
		return "Rename the forum category or group, or remove it from the forum by hand: " + detail + "."
	}
	return detail + "."
}

// firstClause is a message up to its first "; ", without a final full stop or
// controller-runtime's "terminal error: " prefix.
func firstClause(msg string) string {
	msg, _, _ = strings.Cut(strings.TrimPrefix(msg, "terminal error: "), "; ")
	return strings.TrimRight(msg, ". ")
}

// firstAlias finds the first room alias (#local:server) in a message.
func firstAlias(msg string) string {
	for _, word := range strings.Fields(msg) {
		word = strings.TrimRight(word, ",;:()")
		if strings.HasPrefix(word, "#") && strings.Contains(word, ":") {
			return word
		}
	}
	return ""
}

// driftHold is how long Drifted stays after the last correction: changes now
// wake a pass within a second, so without it the condition would be gone before
// anyone could read it.
const driftHold = 10 * time.Minute

// summarizeDrift derives Drifted: True when the pass put back changes made by hand
// (DriftCorrected) or found aliases moved away (AliasMoved); gone after a pass
// that succeeded without either, once driftHold has passed.
func summarizeDrift(s *scope.Scope) {
	space := s.Space
	if c := meta.FindStatusCondition(space.Status.Conditions, collabv1.DriftedCondition); c != nil &&
		len(s.Drift) == 0 && len(s.AliasMoved) == 0 && s.Now.Sub(c.LastTransitionTime.Time) < driftHold {
		return
	}
	switch {
	case len(s.Drift) > 0:
		scope.SetCondition(space, collabv1.DriftedCondition, metav1.ConditionTrue, collabv1.ReasonDriftCorrected,
			"Put back changes made by hand: "+strings.Join(s.Drift, "; "))
	case len(s.AliasMoved) > 0:
		scope.SetCondition(space, collabv1.DriftedCondition, metav1.ConditionTrue, collabv1.ReasonAliasMoved,
			"Aliases moved by hand, rooms kept by the ids in status: "+strings.Join(s.AliasMoved, "; ")+
				"; point the aliases back or remove them")
	case len(s.Errs) == 0:
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.DriftedCondition)
	}
}

func allTerminal(errs []*outcome.Error) bool {
	for _, e := range errs {
		if !e.Terminal {
			return false
		}
	}
	return true
}

// firstProblem is what Ready says when it is not True: the first phase condition
// that is not True, else the first error.
func firstProblem(notReady []metav1.Condition, errs []*outcome.Error) metav1.Condition {
	if len(notReady) > 0 {
		return notReady[0]
	}
	if len(errs) > 0 {
		return metav1.Condition{Reason: errs[0].Reason, Message: errs[0].Message()}
	}
	return metav1.Condition{Reason: collabv1.ReasonProgressing, Message: "Reconciliation is in progress"}
}

// notReadyConditions returns the phase conditions that are present and not True.
func notReadyConditions(space *collabv1.CollaborationSpace) []metav1.Condition {
	var out []metav1.Condition
	for _, t := range phaseConditions {
		if c := meta.FindStatusCondition(space.Status.Conditions, t); c != nil && c.Status != metav1.ConditionTrue {
			out = append(out, *c)
		}
	}
	return out
}

// readyMessage says what the space has, in one stable line.
func readyMessage(space *collabv1.CollaborationSpace) string {
	parts := []string{scope.Counted(len(space.Spec.Members), "member") + " bound"}
	if space.Status.Chat != nil {
		parts = append(parts, scope.Counted(len(space.Status.Chat.Rooms), "room"))
	}
	if space.Status.Forum != nil {
		parts = append(parts, scope.Counted(len(space.Status.Forum.Categories), "category"))
	}
	return "Space is ready: " + strings.Join(parts, ", ")
}

// patchStatus writes the status once per pass, and only when it changed, so a
// steady-state pass makes no write at all. An error outside the phases (the
// deletion path) counts as the pass's error.
func (r *Pass) patchStatus(ctx context.Context, s *scope.Scope, passErr error) error {
	if !s.Space.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(s.Space, SpaceFinalizer) {
		return nil // the finalizer is gone: the object may already be deleted
	}
	if passErr != nil && len(s.Errs) == 0 && !apierrors.IsConflict(passErr) {
		s.Errs = append(s.Errs, outcome.Classify("", collabv1.ReasonFailed, passErr))
	}
	summarize(s)
	r.announceTrouble(s)
	if equality.Semantic.DeepEqual(s.Before.Status, s.Space.Status) {
		return nil
	}
	if err := statuspatch.Patch(ctx, r.Client, s.Before, s.Space, spaceConditions...); err != nil {
		return err
	}
	return waitForCache(ctx, r.Client, s.Space, cacheWaitInterval, cacheWaitTimeout)
}

// announceTrouble emits a Warning event when the space starts retrying or stalls,
// or for another reason than before: once per trouble, not once per pass.
func (r *Pass) announceTrouble(s *scope.Scope) {
	for _, t := range []string{collabv1.StalledCondition, collabv1.ReconcilingCondition} {
		now := meta.FindStatusCondition(s.Space.Status.Conditions, t)
		if now == nil || now.Status != metav1.ConditionTrue || len(s.Errs) == 0 {
			continue
		}
		was := meta.FindStatusCondition(s.Before.Status.Conditions, t)
		if was == nil || was.Status != metav1.ConditionTrue || was.Reason != now.Reason {
			// Ready carries the full detail; Stalled only the sentence of what to change.
			msg := now.Message
			if ready := meta.FindStatusCondition(s.Space.Status.Conditions, collabv1.ReadyCondition); ready != nil && t == collabv1.StalledCondition {
				msg = ready.Message
			}
			r.kit().RecordWarning(s.Space, now.Reason, "Reconcile", "%s", msg)
		}
		return
	}
}

// logPassEnd says at debug level how a pass ended, the way Flux's controllers
// do: how long it took, when the next one runs, the reasons of its faults and
// Ready. Reasons only: error messages are already logged by controller-runtime.
func logPassEnd(ctx context.Context, s *scope.Scope, result ctrl.Result) {
	reasons := make([]string, 0, len(s.Errs))
	for _, e := range s.Errs {
		reasons = append(reasons, e.Reason)
	}
	ready := meta.FindStatusCondition(s.Space.Status.Conditions, collabv1.ReadyCondition)
	readyStatus := metav1.ConditionUnknown
	if ready != nil {
		readyStatus = ready.Status
	}
	log.FromContext(ctx).V(1).Info("Reconciliation finished", "took", time.Since(s.Now).Round(time.Millisecond),
		"requeueAfter", result.RequeueAfter, "faults", reasons, "ready", readyStatus)
}

// spaceConditions are the conditions of a space, all of them the pass's.
var spaceConditions = []string{collabv1.ReadyCondition, collabv1.ReconcilingCondition, collabv1.StalledCondition,
	collabv1.DriftedCondition, collabv1.PolicyCompliantCondition, collabv1.MembersReadyCondition,
	collabv1.PermissionsReadyCondition, collabv1.ChatReadyCondition, collabv1.ForumReadyCondition}
