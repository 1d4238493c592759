// Package v1alpha1 contains the collab.opencommons.io/v1alpha1 API: CollaborationSpace,
// the declarative request for a department's chat rooms, forum and permissions, and the
// cluster-scoped ChatBackend and ForumBackend that say where those live.
//
// +kubebuilder:object:generate=true
// +groupName=collab.opencommons.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "collab.opencommons.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme. It
	// needs only apimachinery, so the API package stays cheap to import.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&CollaborationSpace{}, &CollaborationSpaceList{},
		&ChatBackend{}, &ChatBackendList{},
		&ForumBackend{}, &ForumBackendList{},
		&CollaborationPolicy{}, &CollaborationPolicyList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
