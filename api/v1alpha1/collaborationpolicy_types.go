package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PolicyCompliantCondition is True when no CollaborationPolicy that selects the
// space's namespace, and no backend's namespaceSelector, forbids what the space
// asks for. When it is False (reason PolicyViolation) the space is Stalled and the
// operator changes nothing until the space or the policy changes.
const PolicyCompliantCondition = "PolicyCompliant"

// Reasons of PolicyCompliant.
const (
	// ReasonPolicyViolation: a policy or a backend's namespaceSelector forbids part
	// of the spec; the message names the field and the rule.
	ReasonPolicyViolation = "PolicyViolation"
	// ReasonCompliant: every policy that selects the namespace allows the spec.
	ReasonCompliant = "Compliant"
	// ReasonNoPolicy: no CollaborationPolicy selects the namespace.
	ReasonNoPolicy = "NoPolicy"
)

// IngressPolicy bounds the Ingress of a deployed forum.
type IngressPolicy struct {
	// HostPatterns are the hosts a forum's Ingress may claim. {{.Namespace}} and
	// {{.Name}} stand for the space's namespace and name, e.g.
	// "{{.Namespace}}.forums.example.org". Any host when empty.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9.{}A-Z-]+$`
	// +listType=set
	// +optional
	HostPatterns []string `json:"hostPatterns,omitempty"`
	// ClassNames are the ingress classes a forum's Ingress may name. Any class when
	// empty; an Ingress that names no class (the cluster's default) is always allowed.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	ClassNames []string `json:"classNames,omitempty"`
}

// PolicyLimits bound the size of each space.
type PolicyLimits struct {
	// Rooms is the most chat rooms a space may list.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Rooms *int32 `json:"rooms,omitempty"`
	// Categories is the most forum categories a space may list.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Categories *int32 `json:"categories,omitempty"`
	// Storage is the largest volume a deployed forum may ask for
	// (spec.forum.deploy.storage.size, 5Gi when unset).
	// +optional
	Storage *resource.Quantity `json:"storage,omitempty"`
	// Groups is the most Group members a space may list (spec.members of kind
	// Group), checked at admission.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Groups *int32 `json:"groups,omitempty"`
	// People is the most people a space's Group members may resolve to through
	// the directory. A resolution past it is not applied: the space keeps the
	// people it last resolved, adds and removes nobody, and says so on
	// MembersReady (reason TooManyPeople). One "all-staff" group then cannot
	// invite the whole organisation into a department's rooms.
	// +kubebuilder:validation:Minimum=0
	// +optional
	People *int32 `json:"people,omitempty"`
}

// CollaborationPolicySpec is what the owners of the spaces in the selected
// namespaces may ask for. Every policy that selects a namespace applies: a space
// must satisfy all of them. A namespace no policy selects is not bounded.
type CollaborationPolicySpec struct {
	// NamespaceSelector selects, by their labels, the namespaces whose
	// CollaborationSpaces this policy bounds; every namespace when unset.
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, e.operator in ['In', 'NotIn', 'Exists', 'DoesNotExist'] && ((e.operator in ['In', 'NotIn']) == (has(e.values) && size(e.values) > 0)))",message="each matchExpressions operator must be In or NotIn with values, or Exists or DoesNotExist without"
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	// ChatBackends are the ChatBackends the spaces may use; any when empty.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	ChatBackends []string `json:"chatBackends,omitempty"`
	// ForumBackends are the ForumBackends (shared forums) the spaces may use; any
	// when empty.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	ForumBackends []string `json:"forumBackends,omitempty"`
	// ForumImages are the images a deployed forum may run instead of the operator's
	// pinned one (spec.forum.deploy.image). An entry ending in "*" allows every
	// image that starts with the rest, e.g. "registry.example.org/nodebb:*". When
	// empty, only the pinned image (image unset) is allowed.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=512
	// +listType=set
	// +optional
	ForumImages []string `json:"forumImages,omitempty"`
	// Ingress bounds a deployed forum's Ingress host and class.
	// +optional
	Ingress *IngressPolicy `json:"ingress,omitempty"`
	// StoreSecrets are the Secrets of the space's namespace that a deployed forum's
	// External store may read (spec.forum.deploy.store.secretRef): their content is
	// handed to the forum's pod. "*" allows any. When empty, no space may use an
	// External store, so no Owner can hand a Secret of the namespace to the pod.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	StoreSecrets []string `json:"storeSecrets,omitempty"`
	// AllowDeletionPolicyDelete lets spaces use deletionPolicy Delete, which purges
	// rooms, categories and volumes. When false (the default) only Archive and Retain
	// are allowed, and a space already marked Delete is archived instead.
	// +optional
	AllowDeletionPolicyDelete bool `json:"allowDeletionPolicyDelete,omitempty"`
	// Limits bound the size of each space.
	// +optional
	Limits *PolicyLimits `json:"limits,omitempty"`
	// Insights govern the openness insights (collabctl report) of the spaces
	// the policy selects.
	// +optional
	Insights *PolicyInsights `json:"insights,omitempty"`
}

// PolicyInsights is the platform team's say over the openness insights.
type PolicyInsights struct {
	// Enabled: false keeps the selected spaces out of every figure, whatever
	// their own spec.insights says; their rooms' history is not read.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// MinPeople raises the fewest distinct people a figure may rest on before
	// it is shown, for the whole report: the highest any policy sets applies.
	// It cannot go below the default of 5.
	// +kubebuilder:validation:Minimum=5
	// +kubebuilder:validation:Maximum=1000
	// +optional
	MinPeople *int32 `json:"minPeople,omitempty"`
}

// CollaborationPolicy is the platform team's bound on what space owners may ask
// for, in the namespaces it selects. It is enforced twice: at admission by the
// ValidatingAdmissionPolicy the operator ships (config/admission), and by the
// operator on every pass, which leaves a space that breaks it Stalled with reason
// PolicyViolation and changes nothing.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=cpolicy;cpolicies,categories=collab
// +kubebuilder:printcolumn:name="Delete",type=boolean,JSONPath=`.spec.allowDeletionPolicyDelete`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CollaborationPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec CollaborationPolicySpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// CollaborationPolicyList is a list of CollaborationPolicies.
type CollaborationPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CollaborationPolicy `json:"items"`
}

// BackendUsage says which spaces use a backend. A backend in use is not deleted
// (the collab.opencommons.io/backend-protection finalizer) until no space
// references it.
type BackendUsage struct {
	// Count of the CollaborationSpaces that reference the backend, those being
	// deleted included.
	Count int32 `json:"count"`
	// Spaces are the first of them, as namespace/name, in order.
	// +kubebuilder:validation:MaxItems=20
	// +listType=set
	// +optional
	Spaces []string `json:"spaces,omitempty"`
}
