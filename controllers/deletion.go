package controllers

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/metrics"
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

	// Backends first: archiving the forum's categories needs the forum running.
	err := errors.Join(r.deleteChat(ctx, s, policy), r.deleteForumContent(ctx, s, policy))
	if err == nil {
		err = r.releaseOwned(ctx, space, policy)
	}
	if err != nil {
		setCondition(space, collabv1.ReadyCondition, metav1.ConditionFalse, "DeletionFailed",
			fmt.Sprintf("Cannot carry out deletionPolicy %s, retrying: %v", policy, err))
		return ctrl.Result{}, err
	}

	metrics.ManagedRooms.DeleteLabelValues(space.Namespace, space.Name)
	metrics.ManagedCategories.DeleteLabelValues(space.Namespace, space.Name)
	patch := client.MergeFromWithOptions(space.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(space, SpaceFinalizer)
	if err := r.Patch(ctx, space, patch); err != nil {
		return requeueOnConflict(client.IgnoreNotFound(err))
	}
	return ctrl.Result{}, nil
}

// releaseOwned carries out the deletion policy on the Kubernetes objects the space
// owns. Delete removes them all. Retain lets go of them untouched by dropping the
// owner reference, so the garbage collector keeps them. Archive removes what holds no
// data (access is revoked at once, without waiting for the garbage collector), keeps
// the forum's volume and admin Secret, and keeps its Deployment at zero replicas so
// the archive can be opened again by scaling it up.
func (r *CollaborationSpaceReconciler) releaseOwned(ctx context.Context, space *collabv1.CollaborationSpace,
	policy collabv1.DeletionPolicy) error {
	objs, err := r.ownedObjects(ctx, space, ownedKinds)
	if err != nil {
		return err
	}
	secrets, err := r.ownedSecrets(ctx, space)
	if err != nil {
		return err
	}
	objs = append(objs, secrets...)
	for _, obj := range objs {
		if err := r.retireObject(ctx, space, obj, policy); err != nil {
			return err
		}
	}
	return nil
}

func (r *CollaborationSpaceReconciler) retireObject(ctx context.Context, space *collabv1.CollaborationSpace,
	obj ownedObject, policy collabv1.DeletionPolicy) error {
	switch {
	case policy == collabv1.DeletionPolicyRetain:
		return r.releaseObject(ctx, space, obj)
	case policy == collabv1.DeletionPolicyDelete || obj.archive == archiveDelete:
		return r.deleteObject(ctx, space, obj.Object, obj.kind)
	case obj.archive == archiveScaleDown:
		if dep, ok := obj.Object.(*appsv1.Deployment); ok {
			dep.Spec.Replicas = ptr.To[int32](0)
		}
	}
	return r.releaseObject(ctx, space, obj)
}

// releaseObject writes the object without its owner reference (and with any change
// the caller made to it), so it outlives the space.
func (r *CollaborationSpaceReconciler) releaseObject(ctx context.Context, space *collabv1.CollaborationSpace, obj ownedObject) error {
	if err := controllerutil.RemoveControllerReference(space, obj.Object, r.Scheme); err != nil {
		return fmt.Errorf("cannot release %s %s: %w", obj.kind, obj.GetName(), err)
	}
	if err := r.Update(ctx, obj.Object); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("cannot release %s %s: %w", obj.kind, obj.GetName(), err)
	}
	r.recordOperation(space, obj.kind, obj.GetName(), opReleased)
	return nil
}

func (r *CollaborationSpaceReconciler) deleteObject(ctx context.Context, space *collabv1.CollaborationSpace, obj client.Object, kind string) error {
	if err := r.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("cannot delete %s %s: %w", kind, obj.GetName(), err)
	}
	r.recordOperation(space, kind, obj.GetName(), opDeleted)
	return nil
}

// deleteForumContent carries out the deletion policy on the space's categories
// (and, under Delete, its groups) through the forum's API. A deployed forum deleted
// with its volume needs no API calls; a forum the operator never had a token for
// holds nothing the operator made.
func (r *CollaborationSpaceReconciler) deleteForumContent(ctx context.Context, s *spaceScope, policy collabv1.DeletionPolicy) error {
	space := s.space
	f := space.Spec.Forum
	if f == nil || space.Status.Forum == nil || policy == collabv1.DeletionPolicyRetain {
		return nil
	}
	if f.Deploy != nil {
		if policy == collabv1.DeletionPolicyDelete {
			return nil
		}
		fc, err := r.connectDeployedForum(ctx, space)
		if err != nil {
			return nil
		}
		return r.retireForumContent(ctx, fc, space)
	}
	fc, _, err := connectForumBackend(ctx, r.Client, r.credentials(), r.ForumConnector, f.BackendRef.Name)
	if apierrors.IsNotFound(err) {
		r.recordWarning(space, "ForumBackendMissing", "Delete", "Categories left as they are: %v", err)
		return nil
	}
	if err != nil {
		return err
	}
	return r.retireForumContent(ctx, fc, space)
}
