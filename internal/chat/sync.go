package chat

import (
	"context"
	"errors"
	"time"
)

// ErrUnknownPosition: the server does not know the position a Sync resumed from;
// start again from "" and look at everything once.
var ErrUnknownPosition = errors.New("the chat server does not know this stream position")

// Syncer is a Client that can also stream what changes on the server, so the
// operator learns of a change made by hand within about a second instead of at
// the next poll. Matrix's /sync is one. A Client without it is polled.
type Syncer interface {
	// Sync waits up to timeout for changes after since ("" starts at now, with
	// no history) and returns them with the token to pass next time.
	Sync(ctx context.Context, since string, timeout time.Duration) (SyncBatch, error)
}

// SyncBatch is what one Sync call found.
type SyncBatch struct {
	// Next is the token of the next call.
	Next string
	// Changed lists the rooms whose managed state someone other than the operator
	// changed, or that the operator left or was removed from.
	Changed []string
}

// RoomLister is a Client that can list the rooms the operator's account is in,
// so rooms an interrupted create left behind can be found (see the ChatBackend's
// orphan reaper).
type RoomLister interface {
	JoinedRooms(ctx context.Context) ([]string, error)
}
