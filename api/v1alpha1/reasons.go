package v1alpha1

// The reasons of the conditions and events the operator writes, in one place, as
// Flux's meta package and kstatus keep theirs: a reason is a CamelCase word a
// platform team can alert on, and each constant is named after its value, so a
// reason read in `kubectl describe` is found here by its name.

// Reasons of Ready, Reconciling and Stalled, on every kind.
const (
	// ReasonSucceeded: the last pass made everything the spec asks for.
	ReasonSucceeded = "Succeeded"
	// ReasonProgressing: a pass is under way.
	ReasonProgressing = "Progressing"
	// ReasonFailed: a pass failed for a reason no phase classified.
	ReasonFailed = "Failed"
	// ReasonConnected: the backend's server answers the operator's credentials.
	ReasonConnected = "Connected"
	// ReasonDeletionFailed: the deletion policy could not be carried out yet.
	ReasonDeletionFailed = "DeletionFailed"
)

// Reasons a server or its credentials give, on any condition a phase owns.
const (
	// ReasonChatServerUnavailable: the chat server did not answer or answered 5xx.
	ReasonChatServerUnavailable = "ChatServerUnavailable"
	// ReasonForumUnavailable: the forum did not answer or answered 5xx.
	ReasonForumUnavailable = "ForumUnavailable"
	// ReasonRateLimited: the server asked the operator to slow down.
	ReasonRateLimited = "RateLimited"
	// ReasonCredentialsRejected: the server refused the operator's credentials.
	ReasonCredentialsRejected = "CredentialsRejected"
	// ReasonCredentialsInvalid: the credentials Secret lacks the keys it needs.
	ReasonCredentialsInvalid = "CredentialsInvalid"
	// ReasonCredentialsNamespaceForbidden: a backend names a credentials Secret
	// outside the one namespace the operator reads them from.
	ReasonCredentialsNamespaceForbidden = "CredentialsNamespaceForbidden"
	// ReasonAliasConflict: a room alias the space asks for belongs to a room the
	// operator did not make for it.
	ReasonAliasConflict = "AliasConflict"
	// ReasonNameConflict: a name the space asks for is taken by another space.
	ReasonNameConflict = "NameConflict"
	// ReasonForumConflict: a forum category or group the space asks for belongs to
	// something else.
	ReasonForumConflict = "ForumConflict"
)

// Reasons of ChatReady.
const (
	ReasonChatFailed         = "ChatFailed"
	ReasonRoomsReady         = "RoomsReady"
	ReasonSharedSpacePending = "SharedSpacePending"
)

// Reasons of ForumReady.
const (
	ReasonCategoriesReady         = "CategoriesReady"
	ReasonForumFailed             = "ForumFailed"
	ReasonForumBackendUnavailable = "ForumBackendUnavailable"
	ReasonForumRemovalFailed      = "ForumRemovalFailed"
	ReasonWorkloadsFailed         = "WorkloadsFailed"
	ReasonWorkloadsProgressing    = "WorkloadsProgressing"
	ReasonForumAPIUnreachable     = "ForumAPIUnreachable"
	ReasonForumStarting           = "ForumStarting"
	ReasonForumLoginFailed        = "ForumLoginFailed"
	ReasonForumTokenFailed        = "ForumTokenFailed"
)

// Reasons of PermissionsReady.
const (
	ReasonBound         = "Bound"
	ReasonBindingFailed = "BindingFailed"
)

// Reasons of MembersReady, and of a PeopleDirectory's Ready.
const (
	ReasonResolved             = "Resolved"
	ReasonNoDirectory          = "NoDirectory"
	ReasonDirectoryPending     = "DirectoryPending"
	ReasonDirectoryUnavailable = "DirectoryUnavailable"
	ReasonRemovalsCapped       = "RemovalsCapped"
	ReasonTooManyPeople        = "TooManyPeople"
	ReasonBindRejected         = "BindRejected"
	ReasonBindSecretInvalid    = "BindSecretInvalid"
)

// Reasons of Drifted.
const (
	ReasonDriftCorrected = "DriftCorrected"
	ReasonAliasMoved     = "AliasMoved"
)

// Reasons of PolicyCompliant besides those declared with it.
const (
	ReasonPolicyUnknown = "PolicyUnknown"
)

// Reasons of a ChatBackend's Streaming.
const (
	ReasonStreaming  = "Streaming"
	ReasonStreamDown = "StreamDown"
)

// Reasons of events only: what a pass changed or refused to change.
const (
	ReasonRoomCreated              = "RoomCreated"
	ReasonRoomUpdated              = "RoomUpdated"
	ReasonRoomAliased              = "RoomAliased"
	ReasonRoomLost                 = "RoomLost"
	ReasonRoomDeleted              = "RoomDeleted"
	ReasonRoomArchived             = "RoomArchived"
	ReasonCannotApply              = "CannotApply"
	ReasonChatBackendMissing       = "ChatBackendMissing"
	ReasonForumBackendMissing      = "ForumBackendMissing"
	ReasonForumBackendUnknown      = "ForumBackendUnknown"
	ReasonForumTokenCreated        = "ForumTokenCreated"
	ReasonForumGroupCreated        = "ForumGroupCreated"
	ReasonForumGroupUpdated        = "ForumGroupUpdated"
	ReasonForumGroupDeleted        = "ForumGroupDeleted"
	ReasonForumCategoryAdopted     = "ForumCategoryAdopted"
	ReasonCategoryCreated          = "CategoryCreated"
	ReasonCategoryUpdated          = "CategoryUpdated"
	ReasonCategoryDeleted          = "CategoryDeleted"
	ReasonCategoryArchived         = "CategoryArchived"
	ReasonMembersJoined            = "MembersJoined"
	ReasonMembersLeft              = "MembersLeft"
	ReasonGroupNotFound            = "GroupNotFound"
	ReasonReleasedForUninstall     = "ReleasedForUninstall"
	ReasonReleasedUnreachable      = "ReleasedUnreachable"
	ReasonDeletionPolicyUnknown    = "DeletionPolicyUnknown"
	ReasonDeletionPolicyNotAllowed = "DeletionPolicyNotAllowed"
	ReasonForbiddenImageRunning    = "ForbiddenImageRunning"
	ReasonDirectoryCreated         = "DirectoryCreated"
	ReasonDirectoryUpdated         = "DirectoryUpdated"
	ReasonOrphanIgnored            = "OrphanIgnored"
	ReasonOrphanAdopted            = "OrphanAdopted"
	ReasonOrphanKept               = "OrphanKept"
	ReasonOrphanHeld               = "OrphanHeld"
	ReasonOrphanDeleted            = "OrphanDeleted"
	ReasonOrphanReported           = "OrphanReported"
	ReasonInUse                    = "InUse"
)
