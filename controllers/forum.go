package controllers

import (
	"context"
	"errors"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

var errForumNotSupported = errors.New("forums are not reconciled by this operator version")

// reconcileForum owns ForumReady. This version of the operator does not run forums
// yet: a space that asks for one is told so plainly and marked Stalled, rather than
// reported Ready without its forum.
func (r *CollaborationSpaceReconciler) reconcileForum(_ context.Context, s *spaceScope) (ctrl.Result, error) {
	space := s.space
	if space.Spec.Forum == nil {
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ForumReadyCondition)
		space.Status.Forum = nil
		return ctrl.Result{}, nil
	}
	setCondition(space, collabv1.ForumReadyCondition, metav1.ConditionFalse, "ForumNotSupported",
		"This operator version does not reconcile forums yet; remove spec.forum or upgrade the operator")
	return ctrl.Result{}, reconcile.TerminalError(errForumNotSupported)
}
