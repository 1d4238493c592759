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

// ChatConnector connects to the chat server a space's rooms live on.
type ChatConnector interface{}

func (r *CollaborationSpaceReconciler) reconcileChat(_ context.Context, s *spaceScope) (ctrl.Result, error) {
	space := s.space
	if space.Spec.Chat == nil || len(space.Spec.Chat.Rooms) == 0 {
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ChatReadyCondition)
		return ctrl.Result{}, nil
	}
	setCondition(space, collabv1.ChatReadyCondition, metav1.ConditionFalse, "ChatNotSupported", "not yet")
	return ctrl.Result{}, reconcile.TerminalError(errForumNotSupported)
}

func (r *CollaborationSpaceReconciler) deleteChat(_ context.Context, _ *spaceScope, _ collabv1.DeletionPolicy) error {
	return nil
}
