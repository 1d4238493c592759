package spacepass

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/outcome"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
	"github.com/opencommons/collab-operator/internal/uninstall"
)

// reconcileDelete carries out the deletionPolicy on every backend (the phases that
// have one, Pass.phases), then on the Kubernetes objects the space owns, then lets the
// space go. Backends are handled independently; the finalizer stays until all are done,
// so a failure is retried and nothing is lost. Three things change that:
//   - while the operator is being uninstalled (package uninstall), the space is released
//     untouched, whatever its deletionPolicy;
//   - Delete, when a policy forbids it now, is carried out as Archive;
//   - a backend that cannot be reached is given up on only when an admin annotates
//     the space ReleaseUnreachableAnnotation, and an event says what was left.
func (r *Pass) reconcileDelete(ctx context.Context, s *scope.Scope) (ctrl.Result, error) {
	space := s.Space
	if !controllerutil.ContainsFinalizer(space, SpaceFinalizer) {
		return ctrl.Result{}, nil
	}
	why, err := r.uninstallCheck().Uninstalling(ctx)
	if err != nil {
		scope.SetCondition(space, collabv1.ReadyCondition, metav1.ConditionFalse, collabv1.ReasonDeletionFailed,
			"Cannot tell whether the operator is being uninstalled, so nothing is archived or deleted yet: "+err.Error())
		return ctrl.Result{}, err
	}
	if why != "" {
		return r.releaseOnUninstall(ctx, s, why)
	}
	policy := r.allowedDeletionPolicy(ctx, space)
	// In memory only, so that every step reads the policy carried out; the
	// finalizer and status patches below do not write spec.
	space.Spec.DeletionPolicy = policy
	ctrl.LoggerFrom(ctx).Info("Carrying out deletion policy", "policy", policy)

	// Backends first: archiving the forum's categories needs the forum running.
	failed := r.deleteBackends(ctx, s, policy)
	err = joinFailures(failed)
	if err == nil {
		err = r.releaseOwned(ctx, space, policy)
	}
	if err != nil {
		// On the backends' conditions, which Ready summarises; on Ready itself when
		// the backends are done and the Kubernetes objects are not.
		for _, f := range failed {
			r.deletionFailed(s, f, policy)
		}
		if len(failed) == 0 {
			scope.SetCondition(space, collabv1.ReadyCondition, metav1.ConditionFalse, collabv1.ReasonDeletionFailed,
				fmt.Sprintf("Cannot carry out deletionPolicy %s, retrying: %v", policy, err))
		}
		return ctrl.Result{}, err
	}
	return r.removeFinalizer(ctx, space)
}

// backendFailure is a backend the deletion could not carry out its policy on.
type backendFailure struct {
	phase spacePhase
	err   error
}

// deleteBackends carries out the policy on every backend of the space, each
// independently of the others, and returns those it could not reach and may not
// give up on.
func (r *Pass) deleteBackends(ctx context.Context, s *scope.Scope, policy collabv1.DeletionPolicy) []backendFailure {
	var failed []backendFailure
	for _, p := range r.phases() {
		if p.backend == nil {
			continue
		}
		if err := p.backend.delete(ctx, s, policy); err != nil {
			failed = append(failed, backendFailure{phase: p, err: err})
		}
	}
	return r.releaseUnreachable(s, failed)
}

func joinFailures(failed []backendFailure) error {
	errs := make([]error, 0, len(failed))
	for _, f := range failed {
		errs = append(errs, f.err)
	}
	return errors.Join(errs...)
}

// deletionFailed says on a backend's condition that the deletion cannot reach it,
// and how an admin lets the space go if the backend is gone for good; the Warning
// event comes once per new message.
func (r *Pass) deletionFailed(s *scope.Scope, f backendFailure, policy collabv1.DeletionPolicy) {
	condition := f.phase.condition
	msg := fmt.Sprintf("Cannot carry out deletionPolicy %s on %s, retrying: %v; if it is gone for good, annotate the "+
		"space %s=true to let the space go, leaving what it has there", policy, f.phase.backend.name, f.err, ReleaseUnreachableAnnotation)
	if c := meta.FindStatusCondition(s.Before.Status.Conditions, condition); c == nil || c.Message != msg {
		r.kit().RecordWarning(s.Space, collabv1.ReasonDeletionFailed, "Delete", "%s", msg)
	}
	scope.SetCondition(s.Space, condition, metav1.ConditionFalse, collabv1.ReasonDeletionFailed, msg)
}

// removeFinalizer lets the space go, once its deletion is carried out or released.
func (r *Pass) removeFinalizer(ctx context.Context, space *collabv1.CollaborationSpace) (ctrl.Result, error) {
	metrics.ForgetSpace(space.Namespace, space.Name)
	patch := client.MergeFromWithOptions(space.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(space, SpaceFinalizer)
	if err := r.Patch(ctx, space, patch); err != nil {
		return outcome.RequeueOnConflict(client.IgnoreNotFound(err))
	}
	return ctrl.Result{}, nil
}

// releaseOnUninstall lets a space go while the operator is being uninstalled:
// nothing on the chat server or the forum is touched, and the Kubernetes objects it
// owns are released as under Retain, for a reinstall to adopt.
func (r *Pass) releaseOnUninstall(ctx context.Context, s *scope.Scope, why string) (ctrl.Result, error) {
	space := s.Space
	ctrl.LoggerFrom(ctx).Info("Releasing the space untouched: the operator is being uninstalled", "why", why)
	if err := r.releaseOwned(ctx, space, collabv1.DeletionPolicyRetain); err != nil {
		scope.SetCondition(space, collabv1.ReadyCondition, metav1.ConditionFalse, collabv1.ReasonDeletionFailed,
			"Cannot release the space's objects for the uninstall, retrying: "+err.Error())
		return ctrl.Result{}, err
	}
	r.kit().RecordChange(space, collabv1.ReasonReleasedForUninstall, "Delete",
		"Released without touching anything, whatever the deletionPolicy, because %s: rooms, categories and the "+
			"forum's workloads are left as they are, for the same space to adopt when it is applied again", why)
	return r.removeFinalizer(ctx, space)
}

// allowedDeletionPolicy is the space's deletionPolicy, but Archive for Delete when a
// CollaborationPolicy that selects the namespace forbids Delete now: nothing is
// purged that the platform team does not allow to be.
func (r *Pass) allowedDeletionPolicy(ctx context.Context, space *collabv1.CollaborationSpace) collabv1.DeletionPolicy {
	policy := scope.DeletionPolicyOf(space)
	if policy != collabv1.DeletionPolicyDelete {
		return policy
	}
	violations, _, err := r.judgeSpace(ctx, space)
	if err != nil {
		r.kit().RecordWarning(space, collabv1.ReasonDeletionPolicyUnknown, "Delete",
			"Archiving instead of deleting: the CollaborationPolicies cannot be read to check that Delete is allowed: %v", err)
		return collabv1.DeletionPolicyArchive
	}
	for _, v := range violations {
		if v.Field == "spec.deletionPolicy" || v.Field == "" {
			r.kit().RecordWarning(space, collabv1.ReasonDeletionPolicyNotAllowed, "Delete", "Archiving instead of deleting: %s", v.Message)
			return collabv1.DeletionPolicyArchive
		}
	}
	return policy
}

// releaseOwned carries out the deletion policy on the Kubernetes objects the space
// owns. Delete removes them all. Retain lets go of them untouched by dropping the
// owner reference, so the garbage collector keeps them. Archive removes what holds no
// data (access is revoked at once, without waiting for the garbage collector), keeps
// the forum's volume and admin Secret, and keeps its Deployment at zero replicas so
// the archive can be opened again by scaling it up.
func (r *Pass) releaseOwned(ctx context.Context, space *collabv1.CollaborationSpace,
	policy collabv1.DeletionPolicy) error {
	objs, err := r.kit().OwnedObjects(ctx, space, scope.OwnedKinds)
	if err != nil {
		return err
	}
	secrets, err := r.kit().OwnedSecrets(ctx, space)
	if err != nil {
		return err
	}
	objs = append(objs, secrets...)
	for _, obj := range objs {
		if err := r.kit().RetireObject(ctx, space, obj, policy); err != nil {
			return err
		}
	}
	return nil
}

// ReleaseUnreachableAnnotation, set to "true" on a space being deleted, lets it go
// when its deletion cannot reach a backend, e.g. a chat server or forum gone for
// good: what the space had there is left as it is, and a Warning event lists it.
// Whatever can still be reached is carried out as usual.
const ReleaseUnreachableAnnotation = "collab.opencommons.io/release-unreachable"

// releaseUnreachable gives up on the backends the deletion could not reach, when
// the space carries ReleaseUnreachableAnnotation: a Warning event says what each
// leaves behind. It returns the failures that stand.
func (r *Pass) releaseUnreachable(s *scope.Scope, failed []backendFailure) []backendFailure {
	space := s.Space
	if space.Annotations[ReleaseUnreachableAnnotation] != "true" {
		return failed
	}
	for _, f := range failed {
		b := f.phase.backend
		r.kit().RecordWarning(space, collabv1.ReasonReleasedUnreachable, "Delete", "Released without reaching %s (%v); left behind as they are: %s",
			b.name, f.err, b.leftBehind(space))
	}
	return nil
}

// uninstallCheck is the space reconciler's check.
func (r *Pass) uninstallCheck() uninstall.Check {
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	return uninstall.Check{Reader: reader, OperatorNamespace: r.Forum.OperatorNamespace}
}
