package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StreamingCondition is a ChatBackend's condition that says whether the server's
// stream of changes runs (reasons Streaming and StreamDown).
const StreamingCondition = "Streaming"

// DirectorySpace is the organisation-wide space that lists every Open department
// space, so anyone can find them.
type DirectorySpace struct {
	// Name of the directory space as shown in chat, e.g. the organisation's name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +required
	Name string `json:"name"`
	// Alias local part of the directory space; "directory" when unset.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`
	// +optional
	Alias string `json:"alias,omitempty"`
}

// MatrixBackend says how to reach a Matrix homeserver.
type MatrixBackend struct {
	// HomeserverURL is the base URL of the client-server API.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/.*)?$`
	// +required
	HomeserverURL string `json:"homeserverURL"`
	// ServerName is the homeserver's name, the part after the colon in user ids and
	// aliases.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$`
	// +required
	ServerName string `json:"serverName"`
	// CredentialsSecretRef names a Secret with either `accessToken`, or `username`
	// and `password` to log in with. The account becomes the creator of every room.
	// +required
	CredentialsSecretRef SecretReference `json:"credentialsSecretRef"`
	// UserIDTemplate maps a member's name to a Matrix user id, as a Go template with
	// the member as data; "@{{.Name}}:<serverName>" when unset.
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self.matches('^@.*[{][{][^}]*[.]Name[^}]*[}][}].*:[A-Za-z0-9.-]+(:[0-9]{1,5})?$')",message="userIDTemplate must render a Matrix user id: start with @, use .Name in an action such as {{.Name}} or {{lower .Name}}, and end with :<serverName>"
	// +optional
	UserIDTemplate string `json:"userIDTemplate,omitempty"`
	// RoomNameTemplate names each room in people's clients, as a Go template
	// with .Department, .Namespace, .Space and .Room;
	// "{{.Department}} · {{.Room}}" when unset, so that someone in several
	// departments tells their "general" rooms apart. "{{.Room}}" names rooms as
	// the space lists them. Aliases never change with the name.
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self.contains('.Room')",message="roomNameTemplate must use .Room, or every room of a space would have the same name"
	// +optional
	RoomNameTemplate string `json:"roomNameTemplate,omitempty"`
	// OwnerPowerLevel is the Matrix power level of a space's Owners. The operator's
	// account alone holds 100, which the events that define a room (power levels,
	// join rules, links, canonical alias, the owner marker) need, so no person
	// can change them; an Owner's level must stay below it and above a
	// Moderator's 50.
	// +kubebuilder:validation:Minimum=51
	// +kubebuilder:validation:Maximum=99
	// +kubebuilder:default=90
	// +optional
	OwnerPowerLevel *int32 `json:"ownerPowerLevel,omitempty"`
	// DirectorySpace, when set, is kept listing every Open department space.
	// +optional
	DirectorySpace *DirectorySpace `json:"directorySpace,omitempty"`
	// Invitations says what a member is invited to. PerSpace, the default,
	// sends one invitation to the department's space; its rooms are offered
	// there as suggested rooms that a member joins in one step. PerRoom also
	// invites every member to every room. The rooms of Private spaces are
	// invite-only, so their members are invited to each room either way.
	// +kubebuilder:default=PerSpace
	// +optional
	Invitations Invitations `json:"invitations,omitempty"`
}

// Invitations says whether members are invited to a space alone or to each of
// its rooms too.
// +kubebuilder:validation:Enum=PerSpace;PerRoom
type Invitations string

const (
	// InvitationsPerSpace invites members to the space; its rooms are offered
	// inside it.
	InvitationsPerSpace Invitations = "PerSpace"
	// InvitationsPerRoom invites members to the space and to each room.
	InvitationsPerRoom Invitations = "PerRoom"
)

// ChatBackendSpec says which chat server rooms live on.
// +kubebuilder:validation:XValidation:rule="has(self.matrix)",message="a chat server must be configured: set matrix",fieldPath=".matrix"
type ChatBackendSpec struct {
	// Matrix homeserver.
	// +optional
	Matrix *MatrixBackend `json:"matrix,omitempty"`
	// PollInterval is how often spaces on this backend are compared with the chat
	// server in full, a safety net: changes made by hand arrive through the
	// server's event stream within a second. While the stream is down, spaces are
	// compared every 5m (or this interval, when shorter).
	// +kubebuilder:default="1h"
	// +optional
	PollInterval metav1.Duration `json:"pollInterval,omitempty"`
	// DirectoryRef names the PeopleDirectory through which the Group members of
	// the spaces on this backend reach chat; the cluster's default directory when
	// unset.
	// +optional
	DirectoryRef *LocalObjectReference `json:"directoryRef,omitempty"`
	// NamespaceSelector reserves the backend for the namespaces whose labels it
	// selects, e.g. some departments: a space in another namespace that names it is
	// refused at admission and Stalled (PolicyViolation). Every namespace when unset.
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, e.operator in ['In', 'NotIn', 'Exists', 'DoesNotExist'] && ((e.operator in ['In', 'NotIn']) == (has(e.values) && size(e.values) > 0)))",message="each matchExpressions operator must be In or NotIn with values, or Exists or DoesNotExist without"
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	// Reaper says what the operator may do with the rooms it made that no space
	// records, such as those a create cut off by a crash leaves behind. A room
	// anyone but the operator was ever a member of, or that a space ever recorded,
	// is only reported, in every mode. Delete (adopt, and remove rooms that never
	// held anything), at most 10 an hour, when unset.
	// +optional
	Reaper *Reaper `json:"reaper,omitempty"`
}

// ReaperMode says how far the reaper may act on a room no space records.
// +kubebuilder:validation:Enum=Report;Adopt;Delete
type ReaperMode string

const (
	// ReaperModeReport changes nothing: each room is reported in an event
	// (OrphanReported) with what Delete would have done.
	ReaperModeReport ReaperMode = "Report"
	// ReaperModeAdopt points a free alias back at the room that carries it as its
	// canonical alias, so its space finds it; it deletes nothing and reports the
	// rooms Delete would remove.
	ReaperModeAdopt ReaperMode = "Adopt"
	// ReaperModeDelete adopts as Adopt does, and deletes the rooms an interrupted
	// create left that never held anything: no member but the operator ever,
	// recorded by no space. Rooms with history are reported, never deleted.
	ReaperModeDelete ReaperMode = "Delete"
)

// Reaper is the policy for the rooms the operator made that no space records.
type Reaper struct {
	// Mode is Report, Adopt or Delete.
	// +kubebuilder:default=Delete
	// +optional
	Mode ReaperMode `json:"mode,omitempty"`
	// MaxDeletionsPerHour caps the rooms the reaper deletes on this backend in any
	// hour; the rest wait, reported as OrphanHeld, for the next.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +kubebuilder:default=10
	// +optional
	MaxDeletionsPerHour *int32 `json:"maxDeletionsPerHour,omitempty"`
}

// ChatBackendStatus is what the operator last saw of the chat server.
type ChatBackendStatus struct {
	// ObservedGeneration is the generation the status was last reconciled at.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, and Streaming: whether the server's stream of changes
	// runs, or spaces fall back to polling.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ServerVersions are the client-server API versions the server supports.
	// +optional
	ServerVersions []string `json:"serverVersions,omitempty"`
	// UserID of the operator's account on the server.
	// +optional
	UserID string `json:"userID,omitempty"`
	// DirectorySpaceID is the id of the organisation's directory space.
	// +optional
	DirectorySpaceID string `json:"directorySpaceID,omitempty"`
	// SyncToken is the position of the operator's stream of changes on the
	// server, saved now and then so a restart resumes from it and misses nothing.
	// +optional
	SyncToken string `json:"syncToken,omitempty"`
	// UsedBy are the CollaborationSpaces that reference the backend. While there
	// are any, deleting the backend waits.
	// +optional
	UsedBy *BackendUsage `json:"usedBy,omitempty"`
}

// ChatBackend is a chat server that CollaborationSpaces put their rooms on.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=chatb,categories=collab
// +kubebuilder:printcolumn:name="Server",type=string,JSONPath=`.spec.matrix.serverName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Spaces",type=integer,JSONPath=`.status.usedBy.count`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ChatBackend struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ChatBackendSpec `json:"spec"`
	// +optional
	Status ChatBackendStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ChatBackendList is a list of ChatBackends.
type ChatBackendList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ChatBackend `json:"items"`
}
