// Package uninstall tells whether the operator is being uninstalled, so that a
// space deleted then is released untouched instead of archived or purged.
package uninstall

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Uninstalling the operator must lose nothing. Deleting the CollaborationSpace CRD
// deletes every space, and without this each finalizer would carry out its
// deletionPolicy: archive or purge every room, disable every category. So when the
// operator is being uninstalled, a space being deleted is released instead: its
// finalizer goes, nothing remote is touched, and the Kubernetes objects it owns are
// let go as under deletionPolicy Retain (a deployed forum keeps its workloads and
// volume). Re-applying the CRD and the same spaces adopts the same rooms, found by
// alias with proof of ownership, and the same categories.
//
// The operator is being uninstalled when
//   - the CollaborationSpace CRD is being deleted, or is gone (`make uninstall`,
//     `make undeploy`, `kubectl delete crd`); or
//   - the operator's namespace carries Annotation=true, for an uninstall
//     that keeps the CRDs a while (helm uninstall, which leaves them).

// Annotation, set to "true" on the operator's namespace, tells the
// operator it is being uninstalled: deleted spaces are released untouched.
const Annotation = "collab.opencommons.io/uninstall"

// spacesCRD is the CollaborationSpace CRD's name.
const spacesCRD = "collaborationspaces.collab.opencommons.io"

// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get,resourceNames=collaborationspaces.collab.opencommons.io
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get

var crdKind = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}

// Check tells whether the operator is being uninstalled. It reads straight
// from the API server (the CRD by name, the operator's namespace), only when a space
// is being deleted, or just before the directory or the orphan reaper writes.
type Check struct {
	Reader            client.Reader
	OperatorNamespace string
}

// Uninstalling returns why the operator is being uninstalled, or "" when it is not.
// An error means it cannot tell; callers then do nothing they could not undo.
func (u Check) Uninstalling(ctx context.Context) (string, error) {
	if u.Reader == nil {
		return "", nil // not wired: a reconciler built by hand, as in tests
	}
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(crdKind)
	err := u.Reader.Get(ctx, client.ObjectKey{Name: spacesCRD}, crd)
	switch {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return "the CollaborationSpace CRD is gone", nil
	case err != nil:
		return "", fmt.Errorf("cannot read CRD %s to tell whether the operator is being uninstalled: %w", spacesCRD, err)
	case !crd.DeletionTimestamp.IsZero():
		return "the CollaborationSpace CRD is being deleted", nil
	}
	if u.OperatorNamespace == "" {
		return "", nil
	}
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"})
	if err := u.Reader.Get(ctx, client.ObjectKey{Name: u.OperatorNamespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("cannot read the operator's namespace %s: %w", u.OperatorNamespace, err)
	}
	if ns.Annotations[Annotation] == "true" {
		return fmt.Sprintf("namespace %s is annotated %s=true", u.OperatorNamespace, Annotation), nil
	}
	return "", nil
}
