// Package v1alpha1 contains the collab.opencommons.io/v1alpha1 API: CollaborationSpace,
// the declarative request for a department's chat rooms, forum and permissions, and the
// cluster-scoped ChatBackend and ForumBackend that say where those live.
//
// +kubebuilder:object:generate=true
// +groupName=collab.opencommons.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "collab.opencommons.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
