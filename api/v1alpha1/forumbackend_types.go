package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeBBBackend says how to reach a NodeBB v4 forum's REST API.
type NodeBBBackend struct {
	// URL of the forum; its API is served under /api/v3.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/.*)?$`
	// +required
	URL string `json:"url"`
	// CredentialsSecretRef names a Secret with `token`, an administrator's API token,
	// and optionally `uid`, the user id the token acts for (1 when unset).
	// +required
	CredentialsSecretRef SecretReference `json:"credentialsSecretRef"`
}

// ForumBackendSpec says which shared forum departments get their categories in.
// +kubebuilder:validation:XValidation:rule="has(self.nodebb)",message="a forum must be configured: set nodebb",fieldPath=".nodebb"
type ForumBackendSpec struct {
	// NodeBB forum.
	// +optional
	NodeBB *NodeBBBackend `json:"nodebb,omitempty"`
	// PollInterval is how often spaces on this forum are compared with it to put back
	// changes made by hand.
	// +kubebuilder:default="5m"
	// +optional
	PollInterval metav1.Duration `json:"pollInterval,omitempty"`
	// DirectoryRef names the PeopleDirectory through which the Group members of
	// the spaces on this forum reach it, when their ChatBackend names none; the
	// cluster's default directory when unset.
	// +optional
	DirectoryRef *LocalObjectReference `json:"directoryRef,omitempty"`
	// NamespaceSelector reserves the forum for the namespaces whose labels it
	// selects: a space in another namespace that names it is refused at admission
	// and Stalled (PolicyViolation). Every namespace when unset.
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, e.operator in ['In', 'NotIn', 'Exists', 'DoesNotExist'] && ((e.operator in ['In', 'NotIn']) == (has(e.values) && size(e.values) > 0)))",message="each matchExpressions operator must be In or NotIn with values, or Exists or DoesNotExist without"
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
}

// ForumBackendStatus is what the operator last saw of the forum.
type ForumBackendStatus struct {
	// ObservedGeneration is the generation the status was last reconciled at.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Version of the forum software.
	// +optional
	Version string `json:"version,omitempty"`
	// UsedBy are the CollaborationSpaces that reference the forum. While there are
	// any, deleting the backend waits.
	// +optional
	UsedBy *BackendUsage `json:"usedBy,omitempty"`
}

// ForumBackend is a shared forum that CollaborationSpaces put their categories in.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=forumb,categories=collab
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.nodebb.url`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Spaces",type=integer,JSONPath=`.status.usedBy.count`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ForumBackend struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ForumBackendSpec `json:"spec"`
	// +optional
	Status ForumBackendStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ForumBackendList is a list of ForumBackends.
type ForumBackendList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ForumBackend `json:"items"`
}
