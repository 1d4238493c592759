package rbacphase

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// cachedContentLabel exists only in the manager's cache: the hash of the rules
// of a Role or the subjects of a RoleBinding, which TrimForCache drops. A pass
// compares hashes, so a hand edit is still seen and put back, while the 50,000
// Roles and RoleBindings of 10,000 spaces keep only their metadata in memory.
// It is a label, not an annotation, because the objects' label maps have room
// for one more entry while a new annotation map costs about 400 bytes an object
// (20 MB at 10,000 spaces). It is never written: applyRBAC removes it before
// any write, and releaseObject patches only what it changes.
const cachedContentLabel = "collab.opencommons.io/cached-content-hash"

// trimRBAC replaces the content of a cached Role or RoleBinding by its hash.
func trimRBAC(obj any) {
	switch o := obj.(type) {
	case *rbacv1.Role:
		o.Labels = withLabel(o.Labels, cachedContentLabel, hashOf(o.Rules))
		o.Rules = nil
	case *rbacv1.RoleBinding:
		o.Labels = withLabel(o.Labels, cachedContentLabel, hashOf(o.Subjects))
		o.Subjects = nil
	}
}

// rbacContentHash is the hash of what a Role or RoleBinding grants: the one the
// cache recorded, or, for a desired object, computed from its content. Objects
// read from the API server go through trimRBAC first (the cache transform, the
// plan's reads, createOwned), which overwrites any label of that name someone
// set on the server: a forged hash must never hide a hand edit.
func rbacContentHash(obj client.Object) string {
	if h := obj.GetLabels()[cachedContentLabel]; h != "" {
		return h
	}
	switch o := obj.(type) {
	case *rbacv1.Role:
		return hashOf(o.Rules)
	case *rbacv1.RoleBinding:
		return hashOf(o.Subjects)
	}
	return ""
}

func hashOf(v any) string {
	data, _ := json.Marshal(v) // rules and subjects always marshal
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}

// withLabel adds a label in place: the cache owns the object it transforms.
func withLabel(l map[string]string, key, value string) map[string]string {
	if l == nil {
		l = map[string]string{}
	}
	l[key] = value
	return l
}

// applyRBAC creates desired, a Role or RoleBinding of the space, or brings the
// existing one in line, comparing what it grants by hash: the cache holds no
// rules or subjects. An object that already matches is not written. An update
// writes desired's content on the object's own metadata (labels and
// annotations others set stay) and keeps a RoleBinding's roleRef, which the
// API server does not let change.
func (r *Phase) applyRBAC(ctx context.Context, space *collabv1.CollaborationSpace,
	desired client.Object, kind string) error {
	// What desired grants is its content: a hash label it may carry from a read
	// of the server (Revoke) is someone else's word.
	if l := desired.GetLabels(); l != nil {
		delete(l, cachedContentLabel)
	}
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
	labels := scope.OwnedLabels(maps.Clone(current.GetLabels()), space)
	if rbacContentHash(current) == rbacContentHash(desired) && maps.Equal(labels, current.GetLabels()) &&
		metav1.IsControlledBy(current, space) {
		return nil
	}
	delete(labels, cachedContentLabel)
	desired.SetResourceVersion(current.GetResourceVersion())
	desired.SetLabels(labels)
	desired.SetAnnotations(current.GetAnnotations())
	desired.SetOwnerReferences(current.GetOwnerReferences())
	if err := controllerutil.SetControllerReference(space, desired, r.Scheme); err != nil {
		return err
	}
	if b, ok := desired.(*rbacv1.RoleBinding); ok {
		b.RoleRef = current.(*rbacv1.RoleBinding).RoleRef
	}
	if err := r.Update(ctx, desired); err != nil {
		return fmt.Errorf("cannot apply %s %s: %w", kind, desired.GetName(), err)
	}
	r.RecordOperation(space, kind, desired.GetName(), controllerutil.OperationResultUpdated)
	return nil
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
	trimRBAC(current) // read as the cache would: a hash label set on the server is not trusted
	return false, nil
}

// TrimForCache drops from every object the manager caches what no pass reads:
// the managed fields (often larger than the object itself) and kubectl apply's
// copy of the manifest. At 10,000 spaces they were most of the informers' memory.
// Roles and RoleBindings keep a hash of their rules and subjects instead of them
// (TrimForCache).
// The operator writes the objects it caches with patches (spaces, backends) or
// with updates of objects it made itself (Roles, RoleBindings, workloads), and an
// update without managedFields keeps the server's: nothing is lost on the server.
func TrimForCache(obj any) (any, error) {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return obj, nil // a tombstone or another non-object: leave it as it is
	}
	accessor.SetManagedFields(nil)
	trimRBAC(obj)
	if ann := accessor.GetAnnotations(); ann[lastAppliedAnnotation] != "" {
		trimmed := make(map[string]string, len(ann)-1)
		for k, v := range ann {
			if k != lastAppliedAnnotation {
				trimmed[k] = v
			}
		}
		accessor.SetAnnotations(trimmed)
	}
	return obj, nil
}

// lastAppliedAnnotation is kubectl apply's copy of the applied manifest.
const lastAppliedAnnotation = corev1.LastAppliedConfigAnnotation
