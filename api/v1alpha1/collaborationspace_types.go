package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Visibility says who may find and join a space.
// +kubebuilder:validation:Enum=Open;Department;Private
type Visibility string

const (
	// VisibilityOpen spaces are readable and joinable by everyone in the organisation
	// and listed in its directory.
	VisibilityOpen Visibility = "Open"
	// VisibilityDepartment spaces are joinable by members of the department, and per
	// room by the departments it is shared with.
	VisibilityDepartment Visibility = "Department"
	// VisibilityPrivate spaces are joinable by invitation only.
	VisibilityPrivate Visibility = "Private"
)

// MemberPolicy says whether the declared members are the whole membership.
// +kubebuilder:validation:Enum=Additive;Authoritative
type MemberPolicy string

const (
	// MemberPolicyAdditive never removes people who joined on their own.
	MemberPolicyAdditive MemberPolicy = "Additive"
	// MemberPolicyAuthoritative removes people who are not declared.
	MemberPolicyAuthoritative MemberPolicy = "Authoritative"
)

// DeletionPolicy says what happens to a space's rooms, forum and data when the
// CollaborationSpace is deleted.
// +kubebuilder:validation:Enum=Archive;Retain;Delete
type DeletionPolicy string

const (
	// DeletionPolicyArchive keeps all history: rooms are renamed "[archived] …" and
	// closed, forum categories disabled, the forum's volume kept.
	DeletionPolicyArchive DeletionPolicy = "Archive"
	// DeletionPolicyRetain lets go of everything untouched.
	DeletionPolicyRetain DeletionPolicy = "Retain"
	// DeletionPolicyDelete purges rooms, categories, workloads and volumes.
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// SubjectKind is the kind of a member, as in an RBAC subject.
// +kubebuilder:validation:Enum=User;Group;ServiceAccount
type SubjectKind string

const (
	SubjectUser           SubjectKind = "User"
	SubjectGroup          SubjectKind = "Group"
	SubjectServiceAccount SubjectKind = "ServiceAccount"
)

// Member grants a role in the space to a user, a group or a service account.
// +kubebuilder:validation:XValidation:rule="self.kind == 'ServiceAccount' || !has(self.__namespace__)",message="namespace may only be set for a ServiceAccount",fieldPath=".namespace"
type Member struct {
	// Kind of the subject.
	// +required
	Kind SubjectKind `json:"kind"`
	// Name of the user, group or service account, as the cluster's authenticator
	// reports it. Users are also mapped to chat accounts through the backend's
	// userIDTemplate.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[^\s:]+$`
	// +required
	Name string `json:"name"`
	// Namespace of a ServiceAccount; defaults to the space's namespace.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Role of the member in the space.
	// +kubebuilder:default=Member
	// +optional
	Role Role `json:"role,omitempty"`
}

// SpaceReference names another CollaborationSpace, usually another department's.
type SpaceReference struct {
	// Namespace of the space.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Namespace string `json:"namespace"`
	// Name of the space.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`
}

// Room is one chat room inside the department's chat space.
type Room struct {
	// Name of the room: lower case letters, digits and dashes. It forms the room's
	// alias #<namespace>.<space>.<name>:<serverName>, so renaming a room makes a
	// new one (the old one is archived).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`
	// Topic shown under the room's name.
	// +kubebuilder:validation:MaxLength=500
	// +optional
	Topic string `json:"topic,omitempty"`
	// Posting says who may write in the room; Owners makes an announcement room.
	// +kubebuilder:default=Members
	// +optional
	Posting Posting `json:"posting,omitempty"`
	// SharedWith lists other departments' spaces whose members may join this room,
	// so departments can talk to each other.
	// +kubebuilder:validation:MaxItems=20
	// +listType=map
	// +listMapKey=namespace
	// +listMapKey=name
	// +optional
	SharedWith []SpaceReference `json:"sharedWith,omitempty"`
}

// ChatSpec declares the department's chat rooms.
// +kubebuilder:validation:XValidation:rule="!has(self.rooms) || size(self.rooms) == 0 || has(self.backendRef)",message="backendRef is required when rooms are listed",fieldPath=".backendRef"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.backendRef) || (has(self.backendRef) && self.backendRef == oldSelf.backendRef)",message="backendRef is immutable: moving to another chat server would orphan the rooms",fieldPath=".backendRef"
type ChatSpec struct {
	// BackendRef names the cluster-scoped ChatBackend the rooms live on. Required
	// when rooms are listed. Immutable once set, and cannot be removed again:
	// moving to another chat server would orphan the rooms.
	// +optional
	BackendRef *LocalObjectReference `json:"backendRef,omitempty"`
	// Rooms of the department, created inside its chat space.
	// +kubebuilder:validation:MaxItems=50
	// +listType=map
	// +listMapKey=name
	// +optional
	Rooms []Room `json:"rooms,omitempty"`
}

// ForumEngine is the forum software deployed for a department.
// +kubebuilder:validation:Enum=nodebb
type ForumEngine string

// ForumEngineNodeBB is NodeBB v4.
const ForumEngineNodeBB ForumEngine = "nodebb"

// ForumStorage sizes the forum's persistent volume.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.storageClassName) || (has(self.storageClassName) && self.storageClassName == oldSelf.storageClassName)",message="storageClassName is immutable: the forum's data lives on that volume",fieldPath=".storageClassName"
type ForumStorage struct {
	// Size of the volume that holds uploads and the store's data.
	// +kubebuilder:default="5Gi"
	// +optional
	Size resource.Quantity `json:"size,omitempty"`
	// StorageClassName of the volume; the cluster default when empty. Immutable
	// once set: the forum's data lives on that volume.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`
}

// ForumStoreType is where the forum keeps its data.
// +kubebuilder:validation:Enum=Redis;External
type ForumStoreType string

const (
	// ForumStoreRedis deploys a Redis beside the forum.
	ForumStoreRedis ForumStoreType = "Redis"
	// ForumStoreExternal uses a database described by a Secret.
	ForumStoreExternal ForumStoreType = "External"
)

// ForumStore says where the forum keeps its data.
// +kubebuilder:validation:XValidation:rule="self.type == 'External' ? has(self.secretRef) : !has(self.secretRef)",message="secretRef must be set exactly when type is External",fieldPath=".secretRef"
// +kubebuilder:validation:XValidation:rule="self.type == oldSelf.type",message="type is immutable: the forum's data lives in the current store",fieldPath=".type"
type ForumStore struct {
	// Type of the store. Immutable: the forum's data lives in the current store.
	// +kubebuilder:default=Redis
	// +optional
	Type ForumStoreType `json:"type,omitempty"`
	// SecretRef names a Secret in the space's namespace holding the external
	// database's connection settings.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
}

// ForumIngress exposes the forum outside the cluster.
type ForumIngress struct {
	// Host name the forum is served at.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +required
	Host string `json:"host"`
	// ClassName of the ingress controller.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ClassName *string `json:"className,omitempty"`
	// TLSSecretName names a Secret holding the host's certificate.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	TLSSecretName string `json:"tlsSecretName,omitempty"`
}

// ForumDeploy asks the operator to run a forum for the department.
// +kubebuilder:validation:XValidation:rule="self.engine == oldSelf.engine",message="engine is immutable",fieldPath=".engine"
type ForumDeploy struct {
	// Engine of the forum. Immutable.
	// +kubebuilder:default=nodebb
	// +optional
	Engine ForumEngine `json:"engine,omitempty"`
	// Image overrides the pinned forum image.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Image string `json:"image,omitempty"`
	// Storage of the forum; 5Gi on the cluster's default class when unset.
	// +optional
	Storage ForumStorage `json:"storage,omitempty"`
	// Store says where the forum keeps its data; a Redis beside it when unset.
	// +optional
	Store ForumStore `json:"store,omitempty"`
	// Ingress exposes the forum; none when unset.
	// +optional
	Ingress *ForumIngress `json:"ingress,omitempty"`
	// Resources of the forum container.
	// +optional
	Resources *ResourceRequirements `json:"resources,omitempty"`
}

// ResourceRequirements are a container's requests and limits.
type ResourceRequirements struct {
	// Requests is the minimum the container is scheduled with.
	// +optional
	Requests map[string]resource.Quantity `json:"requests,omitempty"`
	// Limits is the maximum the container may use.
	// +optional
	Limits map[string]resource.Quantity `json:"limits,omitempty"`
}

// Category is one forum category of the department.
type Category struct {
	// Name of the category as shown in the forum.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^\S(.*\S)?$`
	// +required
	Name string `json:"name"`
	// Description shown under the category's name.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	Description string `json:"description,omitempty"`
	// Posting says who may start topics and reply.
	// +kubebuilder:default=Members
	// +optional
	Posting Posting `json:"posting,omitempty"`
}

// ForumSpec declares the department's forum: a forum deployed for it, or a place in
// a shared one.
// +kubebuilder:validation:XValidation:rule="has(self.deploy) != has(self.backendRef)",message="exactly one of deploy or backendRef must be set"
// +kubebuilder:validation:XValidation:rule="has(self.deploy) == has(oldSelf.deploy)",message="cannot switch between deploy and backendRef (a deployed and a shared forum): the categories would be orphaned"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.backendRef) || !has(self.backendRef) || self.backendRef == oldSelf.backendRef",message="backendRef is immutable: moving to another forum would orphan the categories",fieldPath=".backendRef"
type ForumSpec struct {
	// Deploy runs a forum for the department in its namespace. Exactly one of
	// deploy and backendRef is set, and a space cannot switch between them: the
	// categories would be orphaned.
	// +optional
	Deploy *ForumDeploy `json:"deploy,omitempty"`
	// BackendRef names a cluster-scoped ForumBackend (a shared forum) in which the
	// department gets a parent category of its own. Immutable once set: moving to
	// another forum would orphan the categories.
	// +optional
	BackendRef *LocalObjectReference `json:"backendRef,omitempty"`
	// Categories of the department.
	// +kubebuilder:validation:MaxItems=50
	// +listType=map
	// +listMapKey=name
	// +optional
	Categories []Category `json:"categories,omitempty"`
}

// CollaborationSpaceSpec is what a department asks for.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.chat) || !has(oldSelf.chat.backendRef) || (has(self.chat) && has(self.chat.backendRef))",message="chat.backendRef cannot be removed once set: the rooms would be orphaned; list no rooms to archive them instead",fieldPath=".chat"
// +kubebuilder:validation:XValidation:rule="self.members.exists(m, m.role == 'Owner')",message="at least one member must have role Owner",fieldPath=".members"
// +kubebuilder:validation:XValidation:rule="!has(self.chat) || !has(self.chat.rooms) || self.visibility != 'Private' || self.chat.rooms.all(r, !has(r.sharedWith) || size(r.sharedWith) == 0)",message="rooms of a Private space cannot be shared with other departments",fieldPath=".chat.rooms"
type CollaborationSpaceSpec struct {
	// Department is the display name of the department or team.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^\S(.*\S)?$`
	// +required
	Department string `json:"department"`
	// Description of the space, used as the chat space's topic and the forum's
	// parent category description.
	// +kubebuilder:validation:MaxLength=500
	// +optional
	Description string `json:"description,omitempty"`
	// Visibility says who may find and join the space; Department when unset.
	// Open: anyone with an account on the chat server may find and join its rooms
	// (public join rule, listed in the room directory and under the ChatBackend's
	// directory space), and registered forum users may read its categories.
	// Department: members of the department's chat space may join (restricted join
	// rule), and per room the departments it is shared with. Private: invitation
	// only; its rooms cannot be shared.
	// +kubebuilder:default=Department
	// +optional
	Visibility Visibility `json:"visibility,omitempty"`
	// Members of the space and their roles. At least one must be an Owner.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +required
	Members []Member `json:"members"`
	// MemberPolicy says whether undeclared people are removed from rooms and groups.
	// +kubebuilder:default=Additive
	// +optional
	MemberPolicy MemberPolicy `json:"memberPolicy,omitempty"`
	// Chat declares the department's rooms.
	// +optional
	Chat *ChatSpec `json:"chat,omitempty"`
	// Forum declares the department's forum.
	// +optional
	Forum *ForumSpec `json:"forum,omitempty"`
	// DeletionPolicy says what happens to rooms, categories and data when the space
	// is deleted.
	// +kubebuilder:default=Archive
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
	// Insights says whether the space's rooms count in the organisation's
	// openness insights (collabctl report). They do unless enabled is false;
	// then their history is not read and nothing about them is counted.
	// +optional
	Insights *SpaceInsights `json:"insights,omitempty"`
}

// RoomStatus is a room as the chat server knows it.
type RoomStatus struct {
	// Name of the room in the spec.
	Name string `json:"name"`
	// RoomID is the chat server's id of the room.
	RoomID string `json:"roomID"`
	// Alias by which the room is found again.
	// +optional
	Alias string `json:"alias,omitempty"`
}

// ChatStatus is the department's chat as the chat server knows it.
type ChatStatus struct {
	// SpaceID is the id of the department's chat space.
	// +optional
	SpaceID string `json:"spaceID,omitempty"`
	// Rooms created for the department.
	// +listType=map
	// +listMapKey=name
	// +optional
	Rooms []RoomStatus `json:"rooms,omitempty"`
}

// CategoryStatus is a category as the forum knows it.
type CategoryStatus struct {
	// Name of the category in the spec.
	Name string `json:"name"`
	// ID of the category in the forum.
	ID int64 `json:"id"`
}

// ForumStatus is the department's forum as it runs.
type ForumStatus struct {
	// URL of the forum.
	// +optional
	URL string `json:"url,omitempty"`
	// Backend is the ForumBackend of a shared forum, kept so that removing
	// spec.forum can still carry out the deletionPolicy there.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Backend string `json:"backend,omitempty"`
	// Engine is the engine of a deployed forum, kept so that removing
	// spec.forum finds its workloads under that engine's names.
	// +optional
	Engine ForumEngine `json:"engine,omitempty"`
	// ParentCategoryID is the department's own category in a shared forum. The
	// operator acts on it only while the forum names it after this space.
	// +optional
	ParentCategoryID int64 `json:"parentCategoryID,omitempty"`
	// Categories created for the department. In a shared forum the operator acts
	// on one only while the forum shows it under ParentCategoryID.
	// +listType=map
	// +listMapKey=name
	// +optional
	Categories []CategoryStatus `json:"categories,omitempty"`
	// Groups are the names of the forum groups the operator made for the space:
	// owners, moderators, members. Deletion under deletionPolicy Delete removes
	// these and no others.
	// +listType=set
	// +optional
	Groups []string `json:"groups,omitempty"`
}

// PermissionsStatus lists the Kubernetes RBAC objects made for the space.
type PermissionsStatus struct {
	// Roles in the space's namespace.
	// +optional
	Roles []string `json:"roles,omitempty"`
	// RoleBindings in the space's namespace.
	// +optional
	RoleBindings []string `json:"roleBindings,omitempty"`
}

// CollaborationSpaceStatus is what the operator has made of the space.
type CollaborationSpaceStatus struct {
	// ObservedGeneration is the generation of the spec the conditions describe:
	// Ready=True at this generation means the space is converged to it;
	// Reconciling=True says why it is not yet, Stalled=True what to change.
	// +kubebuilder:default=0
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions, each with a CamelCase reason and a message that says what to do:
	// Ready summarises the others (True when the space is converged);
	// Reconciling is True while the operator is still converging the space, and its
	// reason says what it waits for (e.g. SharedSpacePending, RateLimited);
	// Stalled is True when retrying cannot help until the space, a policy or a
	// backend changes, and its message says what to change;
	// PolicyCompliant is False when the space breaks a rule of a
	// CollaborationPolicy that selects its namespace (nothing is changed then);
	// MembersReady is False when the space's Group members cannot be resolved
	// through the PeopleDirectory, or removals wait for approval;
	// PermissionsReady, ChatReady and ForumReady say whether the Roles and
	// RoleBindings, the chat rooms and the forum match the spec;
	// Drifted is True for a while after the operator put back changes made by hand
	// on the chat server or the forum.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Chat is the department's chat as the chat server knows it.
	// +optional
	Chat *ChatStatus `json:"chat,omitempty"`
	// Forum is the department's forum as it runs.
	// +optional
	Forum *ForumStatus `json:"forum,omitempty"`
	// Permissions lists the RBAC objects made for the space.
	// +optional
	Permissions *PermissionsStatus `json:"permissions,omitempty"`
	// Members are the people the Group members resolved to through the
	// directory, and the removal budget's accounting.
	// +optional
	Members *MembersStatus `json:"members,omitempty"`
	// Insights are the space's openness figures over the last 7 and 30 days
	// (counts only, never about one person), refreshed by the manager
	// (--insights-interval). Absent while the space is out of the insights.
	// +optional
	Insights *InsightsStatus `json:"insights,omitempty"`
}

// CollaborationSpace is a department's self-service request for chat rooms, a forum
// and the permissions that go with them. The operator keeps them true.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cspace;cspaces,categories=collab
// +kubebuilder:printcolumn:name="Department",type=string,JSONPath=`.spec.department`
// +kubebuilder:printcolumn:name="Visibility",type=string,JSONPath=`.spec.visibility`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 40 && self.metadata.name.matches('^[a-z0-9]([a-z0-9-]*[a-z0-9])?$')",message="metadata.name must be at most 40 lower case letters, digits and dashes: it forms chat aliases and forum group names",fieldPath=".metadata"
type CollaborationSpace struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec CollaborationSpaceSpec `json:"spec"`
	// +kubebuilder:default={}
	// +optional
	Status CollaborationSpaceStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// CollaborationSpaceList is a list of CollaborationSpaces.
type CollaborationSpaceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CollaborationSpace `json:"items"`
}
