package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// MemberValue says what a group's member attribute holds.
// +kubebuilder:validation:Enum=DN;Username
type MemberValue string

const (
	// MemberValueDN: the attribute holds distinguished names of people and of
	// nested groups (groupOfNames' member, groupOfUniqueNames' uniqueMember, AD's
	// member).
	MemberValueDN MemberValue = "DN"
	// MemberValueUsername: the attribute holds usernames (posixGroup's memberUid);
	// such groups cannot nest.
	MemberValueUsername MemberValue = "Username"
)

// ChangeDetection says how the operator learns cheaply that a directory changed.
// +kubebuilder:validation:Enum=Auto;ContextCSN;HighestCommittedUSN;None
type ChangeDetection string

const (
	// ChangeDetectionAuto uses contextCSN (OpenLDAP) when the naming context has
	// one, else highestCommittedUSN (Active Directory) when the root DSE has one,
	// else reads everything every poll.
	ChangeDetectionAuto ChangeDetection = "Auto"
	// ChangeDetectionContextCSN reads the naming context's contextCSN (OpenLDAP
	// with the syncprov overlay, as every replicated OpenLDAP has).
	ChangeDetectionContextCSN ChangeDetection = "ContextCSN"
	// ChangeDetectionUSN reads the root DSE's highestCommittedUSN (Active Directory).
	ChangeDetectionUSN ChangeDetection = "HighestCommittedUSN"
	// ChangeDetectionNone reads the groups and people every poll.
	ChangeDetectionNone ChangeDetection = "None"
)

// LDAPTLS is how the connection to the directory is protected.
// +kubebuilder:validation:Enum=None;StartTLS;LDAPS
type LDAPTLS string

const (
	LDAPTLSNone     LDAPTLS = "None"
	LDAPTLSStartTLS LDAPTLS = "StartTLS"
	LDAPTLSLDAPS    LDAPTLS = "LDAPS"
)

// LDAPDirectory reads people and groups from an LDAP server (OpenLDAP, Active
// Directory, or an identity provider that speaks LDAP).
// +kubebuilder:validation:XValidation:rule="self.tls == 'LDAPS' ? self.url.startsWith('ldaps://') : self.url.startsWith('ldap://')",message="url must be ldaps:// exactly when tls is LDAPS",fieldPath=".url"
// +kubebuilder:validation:XValidation:rule="!has(self.caBundle) || self.tls != 'None'",message="caBundle needs tls StartTLS or LDAPS",fieldPath=".caBundle"
type LDAPDirectory struct {
	// URL of the server, ldap://host[:port] or ldaps://host[:port].
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^ldaps?://[^\s/?#]+/?$`
	// +required
	URL string `json:"url"`
	// TLS protects the connection: StartTLS on an ldap:// URL, or LDAPS. None sends
	// the bind password in the clear and is only for a server on the same host.
	// +kubebuilder:default=StartTLS
	// +optional
	TLS LDAPTLS `json:"tls,omitempty"`
	// CABundle is the PEM certificate(s) of the authorities that sign the server's
	// certificate; the system's roots when empty.
	// +kubebuilder:validation:MaxLength=65536
	// +optional
	CABundle string `json:"caBundle,omitempty"`
	// BindSecretRef names a Secret in the operator's credentials namespace with
	// `bindDN` and `password`; the operator binds anonymously when unset. Like
	// backends' credentials, it is read by name, never cached, and never quoted.
	// +optional
	BindSecretRef *SecretReference `json:"bindSecretRef,omitempty"`
	// UserBaseDN is where people are searched (subtree).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +required
	UserBaseDN string `json:"userBaseDN"`
	// UserFilter selects people below UserBaseDN.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^\(.*\)$`
	// +kubebuilder:default="(objectClass=inetOrgPerson)"
	// +optional
	UserFilter string `json:"userFilter,omitempty"`
	// GroupBaseDN is where groups are searched (subtree).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +required
	GroupBaseDN string `json:"groupBaseDN"`
	// GroupFilter selects groups below GroupBaseDN.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^\(.*\)$`
	// +kubebuilder:default="(objectClass=groupOfNames)"
	// +optional
	GroupFilter string `json:"groupFilter,omitempty"`
	// GroupNameAttribute holds the name a space's Group member refers to.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9-]*$`
	// +kubebuilder:default=cn
	// +optional
	GroupNameAttribute string `json:"groupNameAttribute,omitempty"`
	// MemberAttribute of a group lists its members.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9-]*$`
	// +kubebuilder:default=member
	// +optional
	MemberAttribute string `json:"memberAttribute,omitempty"`
	// MemberValue says whether MemberAttribute holds DNs (which may name nested
	// groups) or usernames.
	// +kubebuilder:default=DN
	// +optional
	MemberValue MemberValue `json:"memberValue,omitempty"`
	// UsernameAttribute of a person forms their chat user id (it is .Name in the
	// ChatBackend's userIDTemplate) and their forum username.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9-]*$`
	// +kubebuilder:default=uid
	// +optional
	UsernameAttribute string `json:"usernameAttribute,omitempty"`
	// EmailAttribute of a person.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9-]*$`
	// +kubebuilder:default=mail
	// +optional
	EmailAttribute string `json:"emailAttribute,omitempty"`
	// NestedGroups resolves groups that are members of groups (DN members only).
	// Cycles are detected and broken.
	// +kubebuilder:default=true
	// +optional
	NestedGroups *bool `json:"nestedGroups,omitempty"`
	// PageSize of searches (RFC 2696 paged results), so a directory larger than
	// the server's size limit is read whole.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +kubebuilder:default=500
	// +optional
	PageSize int32 `json:"pageSize,omitempty"`
	// Timeout of each request to the server.
	// +kubebuilder:default="10s"
	// +optional
	Timeout metav1.Duration `json:"timeout,omitempty"`
	// ChangeDetection says how an unchanged directory is recognised with one cheap
	// query per poll.
	// +kubebuilder:default=Auto
	// +optional
	ChangeDetection ChangeDetection `json:"changeDetection,omitempty"`
}

// StaticPerson is a person of a static directory.
type StaticPerson struct {
	// Username forms the chat user id (.Name in the userIDTemplate) and the forum
	// username.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[^\s:]+$`
	// +required
	Username string `json:"username"`
	// Email of the person.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Email string `json:"email,omitempty"`
}

// StaticGroup is a group of a static directory.
type StaticGroup struct {
	// Name a space's Group member refers to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[^\s:]+$`
	// +required
	Name string `json:"name"`
	// Members are usernames of people listed in spec.static.people.
	// +kubebuilder:validation:MaxItems=10000
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Members []string `json:"members,omitempty"`
	// Groups are names of nested groups, whose members are members of this one.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Groups []string `json:"groups,omitempty"`
}

// StaticDirectory lists groups and their people in YAML, for small organisations
// and pure GitOps.
type StaticDirectory struct {
	// People of the organisation.
	// +kubebuilder:validation:MaxItems=10000
	// +listType=map
	// +listMapKey=username
	// +optional
	People []StaticPerson `json:"people,omitempty"`
	// Groups of the organisation.
	// +kubebuilder:validation:MaxItems=1000
	// +listType=map
	// +listMapKey=name
	// +optional
	Groups []StaticGroup `json:"groups,omitempty"`
}

// PeopleDirectorySpec says where the organisation's groups and people come from.
// +kubebuilder:validation:XValidation:rule="has(self.ldap) != has(self.static)",message="exactly one of ldap or static must be set"
type PeopleDirectorySpec struct {
	// Default makes this the directory of spaces whose backends name none. With
	// more than one default, such spaces resolve their groups through none.
	// +optional
	Default bool `json:"default,omitempty"`
	// LDAP server.
	// +optional
	LDAP *LDAPDirectory `json:"ldap,omitempty"`
	// Static groups and people.
	// +optional
	Static *StaticDirectory `json:"static,omitempty"`
	// PollInterval is how often the directory is checked for changes: a person
	// added to or removed from a group reaches chat and forum within one interval.
	// +kubebuilder:default="1m"
	// +optional
	PollInterval metav1.Duration `json:"pollInterval,omitempty"`
	// FullSyncInterval is how often everything is read again even when change
	// detection says nothing changed.
	// +kubebuilder:default="1h"
	// +optional
	FullSyncInterval metav1.Duration `json:"fullSyncInterval,omitempty"`
}

// DirectoryGroupStatus is one group spaces use, as last resolved.
type DirectoryGroupStatus struct {
	// Name of the group.
	Name string `json:"name"`
	// Found is false when the directory has no such group.
	Found bool `json:"found"`
	// People in the group, nested groups included.
	People int32 `json:"people"`
	// Digest of the group's people: it changes exactly when they do, which is
	// what wakes the spaces that use the group.
	// +optional
	Digest string `json:"digest,omitempty"`
}

// PeopleDirectoryStatus is what the operator last read from the directory.
type PeopleDirectoryStatus struct {
	// ObservedGeneration is the generation the status was last reconciled at.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ChangeDetection in use: ContextCSN, HighestCommittedUSN or None.
	// +optional
	ChangeDetection string `json:"changeDetection,omitempty"`
	// People is how many people the groups in use hold together.
	// +optional
	People int32 `json:"people,omitempty"`
	// Groups are the groups spaces use through this directory.
	// +listType=map
	// +listMapKey=name
	// +optional
	Groups []DirectoryGroupStatus `json:"groups,omitempty"`
	// LastChangeTime is when the groups in use last changed.
	// +optional
	LastChangeTime *metav1.Time `json:"lastChangeTime,omitempty"`
}

// PeopleDirectory is where the organisation's groups and people come from, so a
// space's Group members reach chat and forum.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=pdir,categories=collab
// +kubebuilder:printcolumn:name="Default",type=boolean,JSONPath=`.spec.default`
// +kubebuilder:printcolumn:name="People",type=integer,JSONPath=`.status.people`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type PeopleDirectory struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec PeopleDirectorySpec `json:"spec"`
	// +optional
	Status PeopleDirectoryStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// PeopleDirectoryList is a list of PeopleDirectories.
type PeopleDirectoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PeopleDirectory `json:"items"`
}

// MembersReadyCondition is True when a space's Group members are resolved through
// its directory and no removal is held back. It is not part of Ready: a directory
// that is down leaves the space as it was, and held removals wait for approval.
const MembersReadyCondition = "MembersReady"

// ApproveRemovalsAnnotation, set on a space to the digest its MembersReady
// condition names, lets the removals held back by the removal budget go ahead.
const ApproveRemovalsAnnotation = "collab.opencommons.io/approve-removals"

// RemovalRecord is the accounts one pass removed from a space.
type RemovalRecord struct {
	// Time of the pass.
	Time metav1.Time `json:"time"`
	// Accounts removed: chat user ids, and forum usernames as "forum:<username>".
	Accounts []string `json:"accounts"`
}

// HeldRemovals are removals the budget held back.
type HeldRemovals struct {
	// Count of accounts held back.
	Count int32 `json:"count"`
	// Accounts held back (at most 500 are listed; only listed ones are approved).
	// +optional
	Accounts []string `json:"accounts,omitempty"`
	// Digest of Accounts: set the approve-removals annotation to it to let them go.
	// +optional
	Digest string `json:"digest,omitempty"`
}

// MembersStatus is who a space's members resolved to.
type MembersStatus struct {
	// Directory the Group members were resolved through.
	// +optional
	Directory string `json:"directory,omitempty"`
	// Owners are the people (usernames) the Group members resolved to with role
	// Owner. Each person is listed once, under their highest role, and each
	// list names at most the first 1,000 by name (counts has how many there
	// are). Spaces keep these lists when the directory cannot be read; a list
	// cut short is not trusted for removals.
	// +kubebuilder:validation:MaxItems=1000
	// +optional
	Owners []string `json:"owners,omitempty"`
	// Moderators resolved with role Moderator.
	// +kubebuilder:validation:MaxItems=1000
	// +optional
	Moderators []string `json:"moderators,omitempty"`
	// Members resolved with role Member.
	// +kubebuilder:validation:MaxItems=1000
	// +optional
	Members []string `json:"members,omitempty"`
	// Counts are how many people resolved under each role.
	// +optional
	Counts *MemberCounts `json:"counts,omitempty"`
	// GroupsNotFound are Group members the directory does not have.
	// +optional
	GroupsNotFound []string `json:"groupsNotFound,omitempty"`
	// Unmapped are people whose username makes no valid chat user id.
	// +optional
	Unmapped []string `json:"unmapped,omitempty"`
	// WithoutForumAccount counts the people who have no forum account yet: they
	// join the forum's groups once they have logged in.
	// +optional
	WithoutForumAccount int32 `json:"withoutForumAccount,omitempty"`
	// Removals made in the last hour, which the removal budget counts.
	// +optional
	Removals []RemovalRecord `json:"removals,omitempty"`
	// Held are removals past the budget, waiting for the hour to pass or for
	// approval.
	// +optional
	Held *HeldRemovals `json:"held,omitempty"`
	// Leaving are the people who left the space's groups while a pass could not
	// reach the chat server or forum: their removals stay due, ahead of other
	// accounts', until a pass reaches every server. At most 500 are listed.
	// +optional
	// +kubebuilder:validation:MaxItems=500
	Leaving []string `json:"leaving,omitempty"`
}

// MemberCounts are how many people a space's Group members resolved to, by role.
type MemberCounts struct {
	Owners     int32 `json:"owners"`
	Moderators int32 `json:"moderators"`
	Members    int32 `json:"members"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, &PeopleDirectory{}, &PeopleDirectoryList{})
		return nil
	})
}
