package chat

import "context"

// Client reads and changes rooms on one chat server, as one account: the operator's.
// Every method is idempotent, so a pass interrupted anywhere can simply run again.
type Client interface {
	// Observe finds a room by the local part of its alias and reads its state. It
	// only reads. It returns (nil, nil) when the alias is unknown.
	Observe(ctx context.Context, aliasLocalpart string) (*ObservedRoom, error)

	// ObserveID reads a room by its id, with no alias look-up; Alias is left
	// empty. A room the operator is not in yields an error wrapping ErrForbidden
	// or ErrNotFound.
	ObserveID(ctx context.Context, roomID string) (*ObservedRoom, error)

	// ResolveAlias returns the id of the room #<aliasLocalpart>:<serverName>
	// points to, "" when the alias is unknown. It only reads.
	ResolveAlias(ctx context.Context, aliasLocalpart string) (string, error)

	// SetAlias points the free alias #<aliasLocalpart>:<serverName> at roomID.
	// An alias that already points elsewhere yields an error wrapping
	// ErrAliasConflict; one that points at roomID is left as it is.
	SetAlias(ctx context.Context, aliasLocalpart, roomID string) error

	// Create makes the room with all its state at once. When the alias is already
	// taken, because an earlier pass created the room and stopped before recording
	// it, Create adopts that room and returns it instead of making a duplicate; it
	// returns an error wrapping ErrAliasConflict when that room belongs to another
	// space (see CheckOwner). The returned room reflects spec, not a fresh read.
	Create(ctx context.Context, spec RoomSpec) (*ObservedRoom, error)

	// Update applies actions to an existing room, in order. An action that fails
	// does not stop the ones after it (a user without an account must not keep a
	// topic from being fixed); the failures are returned joined.
	Update(ctx context.Context, roomID string, actions []Action) error

	// Archive closes a room but keeps its history readable by its members: it is
	// renamed ArchivedNamePrefix+name, made invite-only, posting is locked to
	// power level 100, it leaves the directory, its m.space.child link in
	// parentSpaceID (if not empty) is removed, and its aliases are removed so a new
	// space may reuse the name. A room the operator can no longer see counts as
	// archived.
	Archive(ctx context.Context, roomID, parentSpaceID string) error

	// Delete removes a room: purged when the server offers that to the account
	// (Dendrite's admin API), otherwise emptied, unaliased, unpublished and left.
	// A room the operator can no longer see counts as deleted.
	Delete(ctx context.Context, roomID string) error

	// Whoami returns the operator account's user id.
	Whoami(ctx context.Context) (string, error)

	// Versions returns the client-server API versions the server supports.
	Versions(ctx context.Context) ([]string, error)
}
