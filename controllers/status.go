package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// phaseConditions are summarised into Ready, in the order a user reads them.
var phaseConditions = []string{
	collabv1.PolicyCompliantCondition,
	collabv1.PermissionsReadyCondition,
	collabv1.ChatReadyCondition,
	collabv1.ForumReadyCondition,
}

// setCondition sets a condition at the object's current generation. Its transition
// time only moves when its status does, so an unchanged pass writes nothing.
func setCondition(space *collabv1.CollaborationSpace, condType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&space.Status.Conditions, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: space.Generation,
	})
}

// summarize sets Ready, Reconciling and Stalled from the phase conditions and the
// pass's error, the way kstatus reads them: Ready=True and neither of the others when
// done; Reconciling=True while retrying; Stalled=True when retrying will not help.
func summarize(space *collabv1.CollaborationSpace, passErr error) {
	notReady := notReadyConditions(space)
	switch {
	case passErr == nil && len(notReady) == 0:
		setCondition(space, collabv1.ReadyCondition, metav1.ConditionTrue, "Succeeded", readyMessage(space))
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ReconcilingCondition)
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.StalledCondition)
		space.Status.ObservedGeneration = space.Generation
	case errors.Is(passErr, reconcile.TerminalError(nil)):
		first := notReadyOrUnknown(notReady)
		setCondition(space, collabv1.ReadyCondition, metav1.ConditionFalse, first.Reason, first.Message)
		setCondition(space, collabv1.StalledCondition, metav1.ConditionTrue, first.Reason, first.Message)
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ReconcilingCondition)
		// The spec was read and judged: a user waiting on this generation has an answer.
		space.Status.ObservedGeneration = space.Generation
	default:
		first := notReadyOrUnknown(notReady)
		setCondition(space, collabv1.ReadyCondition, metav1.ConditionFalse, first.Reason, first.Message)
		setCondition(space, collabv1.ReconcilingCondition, metav1.ConditionTrue, first.Reason, first.Message)
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.StalledCondition)
	}
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

func notReadyOrUnknown(conds []metav1.Condition) metav1.Condition {
	if len(conds) > 0 {
		return conds[0]
	}
	return metav1.Condition{Reason: "Progressing", Message: "Reconciliation is in progress"}
}

// readyMessage says what the space has, in one stable line.
func readyMessage(space *collabv1.CollaborationSpace) string {
	parts := []string{fmt.Sprintf("%d members bound", len(space.Spec.Members))}
	if space.Status.Chat != nil {
		parts = append(parts, fmt.Sprintf("%d rooms", len(space.Status.Chat.Rooms)))
	}
	if space.Status.Forum != nil {
		parts = append(parts, fmt.Sprintf("%d categories", len(space.Status.Forum.Categories)))
	}
	return "Space is ready: " + strings.Join(parts, ", ")
}

// patchStatus writes the status once per pass, and only when it changed, so a
// steady-state pass makes no write at all.
func (r *CollaborationSpaceReconciler) patchStatus(ctx context.Context, s *spaceScope, passErr error) error {
	if !s.space.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(s.space, SpaceFinalizer) {
		return nil // the finalizer is gone: the object may already be deleted
	}
	summarize(s.space, passErr)
	if equality.Semantic.DeepEqual(s.before.Status, s.space.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, s.space, client.MergeFrom(s.before)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("cannot patch status: %w", err))
	}
	return nil
}
