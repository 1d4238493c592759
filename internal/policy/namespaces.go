package policy

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SelectsNamespace is a label selector's verdict, a nil selector selecting every
// namespace (CollaborationPolicy's rule). A selector that does not parse selects
// none here; the admission policies judge it the same way.
func SelectsNamespace(sel *metav1.LabelSelector, ns *corev1.Namespace) bool {
	if sel == nil {
		return true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(ns.Labels))
}

// NamespaceOf reads a namespace's name and labels, from the manager's metadata cache
// of namespaces (SetupWithManager watches them).
func NamespaceOf(ctx context.Context, c client.Reader, name string) (*corev1.Namespace, error) {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := c.Get(ctx, client.ObjectKey{Name: name}, meta); err != nil {
		return nil, err
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: meta.Name, Labels: meta.Labels}}, nil
}
