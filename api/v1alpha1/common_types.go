package v1alpha1

// Role is what a member may do in a space. One role model, projected three ways:
// Kubernetes RBAC, Matrix power levels and forum group privileges.
// +kubebuilder:validation:Enum=Owner;Moderator;Member
type Role string

const (
	// RoleOwner may change the space (Kubernetes), has power level 100 (Matrix) and
	// moderates the forum.
	RoleOwner Role = "Owner"
	// RoleModerator may view the space, has power level 50 and moderates categories.
	RoleModerator Role = "Moderator"
	// RoleMember may view the space, has power level 0 and posts in the forum.
	RoleMember Role = "Member"
)

// Higher returns the higher of two roles, Owner above Moderator above Member; an
// empty role counts as Member, the API's default. Someone listed under several
// roles, directly or through groups, holds the highest.
func (r Role) Higher(o Role) Role {
	if r.rank() >= o.rank() {
		return r.orMember()
	}
	return o.orMember()
}

func (r Role) orMember() Role {
	if r == "" {
		return RoleMember
	}
	return r
}

func (r Role) rank() int {
	switch r {
	case RoleOwner:
		return 3
	case RoleModerator:
		return 2
	case RoleMember, "":
		return 1
	}
	return 0
}

// Posting says who may write in a room or category.
// +kubebuilder:validation:Enum=Everyone;Members;Moderators;Owners
type Posting string

const (
	// PostingEveryone lets anyone who can join write, members of other departments too.
	PostingEveryone Posting = "Everyone"
	// PostingMembers lets the space's members write.
	PostingMembers Posting = "Members"
	// PostingModerators lets moderators and owners write.
	PostingModerators Posting = "Moderators"
	// PostingOwners lets only owners write: an announcement room.
	PostingOwners Posting = "Owners"
)

// LocalObjectReference names an object in the same namespace, or a cluster-scoped one.
type LocalObjectReference struct {
	// Name of the referent.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// SecretReference names a backend's credentials Secret. Backends are cluster-scoped,
// so the operator reads their Secrets from one namespace only: its own, or the one
// given by its --credentials-namespace flag.
type SecretReference struct {
	// Namespace of the Secret: the operator's credentials namespace when empty. A
	// reference to any other namespace is refused (the backend turns Ready=False with
	// reason CredentialsNamespaceForbidden); nothing is read from it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// Condition types shared by the kinds of this API. They follow kstatus: Ready is the
// summary, Reconciling says work is in flight, Stalled says retrying will not help.
const (
	// ReadyCondition summarises every other condition of the object.
	ReadyCondition = "Ready"
	// ReconcilingCondition is True while the operator is still converging the object.
	ReconcilingCondition = "Reconciling"
	// StalledCondition is True when the operator cannot make progress without a change
	// to the object or its environment.
	StalledCondition = "Stalled"
	// PermissionsReadyCondition is True when the space's Roles and RoleBindings match
	// its members.
	PermissionsReadyCondition = "PermissionsReady"
	// ChatReadyCondition is True when the space's chat rooms match the spec.
	ChatReadyCondition = "ChatReady"
	// ForumReadyCondition is True when the space's forum runs and matches the spec.
	ForumReadyCondition = "ForumReady"
	// DriftedCondition is True when the last pass found and put back changes made by
	// hand on a backend.
	DriftedCondition = "Drifted"
)
