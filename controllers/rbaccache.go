package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// cachedContentAnnotation exists only in the manager's cache: the hash of the
// rules of a Role or the subjects of a RoleBinding, which TrimForCache drops.
// A pass compares hashes, so a hand edit is still seen and put back, while
// the 50,000 Roles and RoleBindings of 10,000 spaces keep only their metadata
// in memory. It is never written: applyRBAC removes it before any write.
const cachedContentAnnotation = "collab.opencommons.io/cached-content-hash"

// trimRBAC replaces the content of a cached Role or RoleBinding by its hash.
func trimRBAC(obj any) {
	switch o := obj.(type) {
	case *rbacv1.Role:
		o.Annotations = withAnnotation(o.Annotations, cachedContentAnnotation, hashOf(o.Rules))
		o.Rules = nil
	case *rbacv1.RoleBinding:
		o.Annotations = withAnnotation(o.Annotations, cachedContentAnnotation, hashOf(o.Subjects))
		o.Subjects = nil
	}
}

// rbacContentHash is the hash of what a Role or RoleBinding grants: the one the
// cache recorded, or, for an object read from the API server (collabctl plan),
// computed from its content.
func rbacContentHash(obj client.Object) string {
	if h := obj.GetAnnotations()[cachedContentAnnotation]; h != "" {
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

func withAnnotation(ann map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(ann)+1)
	maps.Copy(out, ann)
	out[key] = value
	return out
}

// applyRBAC creates desired, a Role or RoleBinding of the space, or brings the
// existing one in line, comparing what it grants by hash: the cache holds no
// rules or subjects. An object that already matches is not written. An update
// writes desired's content on the object's own metadata (labels and
// annotations others set stay) and keeps a RoleBinding's roleRef, which the
// API server does not let change.
func (r *CollaborationSpaceReconciler) applyRBAC(ctx context.Context, space *collabv1.CollaborationSpace,
	desired client.Object, kind string) error {
	current, _ := desired.DeepCopyObject().(client.Object)
	err := r.Get(ctx, client.ObjectKeyFromObject(desired), current)
	switch {
	case apierrors.IsNotFound(err):
		desired.SetLabels(ownedLabels(desired.GetLabels(), space))
		if err := controllerutil.SetControllerReference(space, desired, r.Scheme); err != nil {
			return err
		}
		if err := r.Create(ctx, desired); err != nil {
			return fmt.Errorf("cannot apply %s %s: %w", kind, desired.GetName(), err)
		}
		r.recordOperation(space, kind, desired.GetName(), controllerutil.OperationResultCreated)
		return nil
	case err != nil:
		return fmt.Errorf("cannot apply %s %s: %w", kind, desired.GetName(), err)
	}
	labels := ownedLabels(maps.Clone(current.GetLabels()), space)
	if rbacContentHash(current) == rbacContentHash(desired) && maps.Equal(labels, current.GetLabels()) &&
		metav1.IsControlledBy(current, space) {
		return nil
	}
	desired.SetResourceVersion(current.GetResourceVersion())
	desired.SetLabels(labels)
	ann := maps.Clone(current.GetAnnotations())
	delete(ann, cachedContentAnnotation)
	desired.SetAnnotations(ann)
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
	r.recordOperation(space, kind, desired.GetName(), controllerutil.OperationResultUpdated)
	return nil
}

// liveReader reads from the API server itself: the APIReader, or the Client
// when there is none (a plan's client reads live anyway).
func (r *CollaborationSpaceReconciler) liveReader() client.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}
