package controllers

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// deletionPolicy returns the space's policy, Archive when unset (as the CRD defaults).
func deletionPolicy(space *collabv1.CollaborationSpace) collabv1.DeletionPolicy {
	if space.Spec.DeletionPolicy == "" {
		return collabv1.DeletionPolicyArchive
	}
	return space.Spec.DeletionPolicy
}

// reconcileDelete carries out the deletionPolicy on every backend, then lets the
// space go. Backends are handled independently; the finalizer stays until all are done,
// so a failure is retried and nothing is lost.
func (r *CollaborationSpaceReconciler) reconcileDelete(ctx context.Context, s *spaceScope) (ctrl.Result, error) {
	space := s.space
	if !controllerutil.ContainsFinalizer(space, SpaceFinalizer) {
		return ctrl.Result{}, nil
	}
	policy := deletionPolicy(space)
	ctrl.LoggerFrom(ctx).Info("Carrying out deletion policy", "policy", policy)

	err := errors.Join(
		r.deleteChat(ctx, s, policy),
		r.releasePermissions(ctx, space, policy),
	)
	if err != nil {
		setCondition(space, collabv1.ReadyCondition, metav1.ConditionFalse, "DeletionFailed",
			fmt.Sprintf("Cannot carry out deletionPolicy %s, retrying: %v", policy, err))
		return ctrl.Result{}, err
	}

	patch := client.MergeFromWithOptions(space.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(space, SpaceFinalizer)
	if err := r.Patch(ctx, space, patch); err != nil {
		return requeueOnConflict(client.IgnoreNotFound(err))
	}
	return ctrl.Result{}, nil
}

// releasePermissions deletes the space's Roles and RoleBindings (Archive, Delete) or
// lets go of them untouched (Retain) by dropping the owner reference, so the garbage
// collector keeps them. Deleting explicitly does not depend on the garbage collector
// running, and revokes access at once.
func (r *CollaborationSpaceReconciler) releasePermissions(ctx context.Context, space *collabv1.CollaborationSpace,
	policy collabv1.DeletionPolicy) error {
	objs, err := r.ownedRBAC(ctx, space)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if policy == collabv1.DeletionPolicyRetain {
			err = r.releaseObject(ctx, space, obj)
		} else {
			err = r.deleteObject(ctx, space, obj)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *CollaborationSpaceReconciler) releaseObject(ctx context.Context, space *collabv1.CollaborationSpace, obj client.Object) error {
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	if err := controllerutil.RemoveControllerReference(space, obj, r.Scheme); err != nil {
		return fmt.Errorf("cannot release %s %s: %w", kindOf(obj), obj.GetName(), err)
	}
	if err := r.Patch(ctx, obj, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("cannot release %s %s: %w", kindOf(obj), obj.GetName(), err)
	}
	r.recordOperation(space, kindOf(obj), obj.GetName(), opReleased)
	return nil
}

func (r *CollaborationSpaceReconciler) deleteObject(ctx context.Context, space *collabv1.CollaborationSpace, obj client.Object) error {
	if err := r.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("cannot delete %s %s: %w", kindOf(obj), obj.GetName(), err)
	}
	r.recordOperation(space, kindOf(obj), obj.GetName(), opDeleted)
	return nil
}
