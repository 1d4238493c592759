package rbacphase

import (
	"context"
	"fmt"
	"maps"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/cachetrim"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// applyRBAC creates desired, a Role or RoleBinding of the space, or brings the
// existing one in line, comparing fingerprints: the cache holds no rules,
// subjects or labels. An object that already matches is not written. An update
// writes desired's content on the object's own metadata, read whole from the
// API server (labels and annotations others set stay). A RoleBinding bound
// to another role than desired's is made again (remake).
func (r *Phase) applyRBAC(ctx context.Context, space *collabv1.CollaborationSpace,
	desired client.Object, kind string) error {
	current, _ := desired.DeepCopyObject().(client.Object)
	err := r.Get(ctx, client.ObjectKeyFromObject(desired), current)
	if apierrors.IsNotFound(err) {
		created, err := r.createOwned(ctx, space, desired, current, kind)
		if created || err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("cannot apply %s %s: %w", kind, desired.GetName(), err)
	}
	if matches(current, desired, space) {
		return nil
	}
	if read, err := r.readWhole(ctx, current); err != nil {
		return fmt.Errorf("cannot apply %s %s: %w", kind, desired.GetName(), err)
	} else if read && matches(current, desired, space) {
		return nil // only the cache was behind the server
	}
	if b, ok := desired.(*rbacv1.RoleBinding); ok && current.(*rbacv1.RoleBinding).RoleRef != b.RoleRef {
		return r.remake(ctx, space, desired, current, kind)
	}
	desired.SetResourceVersion(current.GetResourceVersion())
	desired.SetLabels(scope.OwnedLabels(maps.Clone(current.GetLabels()), space))
	desired.SetAnnotations(current.GetAnnotations())
	desired.SetOwnerReferences(current.GetOwnerReferences())
	if err := controllerutil.SetControllerReference(space, desired, r.Scheme); err != nil {
		return err
	}
	if err := r.Update(ctx, desired); err != nil {
		return fmt.Errorf("cannot apply %s %s: %w", kind, desired.GetName(), err)
	}
	r.RecordOperation(space, kind, desired.GetName(), controllerutil.OperationResultUpdated)
	return nil
}

// remake deletes current, a RoleBinding someone bound to another role, and
// creates desired in its place: the API server lets no binding change its
// roleRef, so an update cannot put it back.
func (r *Phase) remake(ctx context.Context, space *collabv1.CollaborationSpace, desired, current client.Object, kind string) error {
	if err := r.DeleteObject(ctx, space, current, kind); err != nil {
		return err
	}
	desired.SetResourceVersion("")
	fresh, _ := desired.DeepCopyObject().(client.Object)
	created, err := r.createOwned(ctx, space, desired, fresh, kind)
	if err == nil && !created {
		err = fmt.Errorf("cannot apply %s %s: it was still there after its deletion; retrying", kind, desired.GetName())
	}
	return err
}

// matches reports whether current grants what desired does, carries the
// operator's labels for the space and is controlled by it.
func matches(current, desired client.Object, space *collabv1.CollaborationSpace) bool {
	return currentFingerprint(current) == desiredFingerprint(desired, space) && metav1.IsControlledBy(current, space)
}

// readWhole reads obj from the API server when it is the cache's trimmed copy
// (trimRBAC), so an update keeps the labels and annotations others set on it;
// read says whether it did.
func (r *Phase) readWhole(ctx context.Context, obj client.Object) (read bool, err error) {
	if !IsTrimmed(obj) {
		return false, nil
	}
	return true, r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), obj)
}

// createOwned creates desired, an object of the space that the cache does not
// hold. When it exists after all, it still carries another shard's label (the
// space moved to this shard, ShardCacheOptions) or the cache lags: then it is
// read into current from the API server, for the caller to bring in line, and
// created is false.
func (r *Phase) createOwned(ctx context.Context, space *collabv1.CollaborationSpace,
	desired, current client.Object, kind string) (created bool, err error) {
	fresh, _ := desired.DeepCopyObject().(client.Object)
	fresh.SetLabels(scope.OwnedLabels(fresh.GetLabels(), space))
	if err := controllerutil.SetControllerReference(space, fresh, r.Scheme); err != nil {
		return false, err
	}
	err = r.Create(ctx, fresh)
	switch {
	case err == nil:
		r.RecordOperation(space, kind, desired.GetName(), controllerutil.OperationResultCreated)
		return true, nil
	case !apierrors.IsAlreadyExists(err):
		return false, fmt.Errorf("cannot apply %s %s: %w", kind, desired.GetName(), err)
	}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(desired), current); err != nil {
		return false, fmt.Errorf("cannot apply %s %s: %w", kind, desired.GetName(), err)
	}
	return false, nil
}

// TrimForCache is the manager's cache transform: what every cached object
// loses (cachetrim.Trim), and for Roles and RoleBindings their content and
// labels, kept as a fingerprint (trimRBAC).
func TrimForCache(obj any) (any, error) {
	cachetrim.Trim(obj)
	trimRBAC(obj)
	return obj, nil
}
