package v1alpha1

// The labels the operator sets on what it owns.
const (
	// SpaceLabel names the CollaborationSpace an owned object belongs to.
	SpaceLabel = "collab.opencommons.io/space"
	// ManagedByLabel marks every object the operator owns, so its cache can be limited
	// to them.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of ManagedByLabel on the operator's objects.
	ManagedByValue = "collab-operator"
)

// ShardLabel is the label the documented shard layout puts on spaces.
const ShardLabel = "collab.opencommons.io/shard"
