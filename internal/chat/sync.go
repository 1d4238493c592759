package chat

import (
	"context"
	"errors"
	"time"

	"github.com/opencommons/collab-operator/internal/insights"
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
	// Messages are the rooms' new messages, by SyncWithMessages only.
	Messages []RoomMessages
}

// RoomLister is a Client that can list the rooms the operator's account is in,
// so rooms an interrupted create left behind can be found (see the ChatBackend's
// orphan reaper).
type RoomLister interface {
	JoinedRooms(ctx context.Context) ([]string, error)
}

// MessageSyncer is a Syncer whose stream can also carry who sent which message
// when (never what it says), for the openness insights: counted from the stream
// the operator already holds, they cost the chat server no request of their own.
type MessageSyncer interface {
	Syncer
	// SyncWithMessages is Sync whose batch also names, room by room, the
	// messages sent since.
	SyncWithMessages(ctx context.Context, since string, timeout time.Duration) (SyncBatch, error)
}

// RoomMessages are the messages a batch carried for one room, oldest first.
type RoomMessages struct {
	Room     string
	Messages []insights.Message
	// Gap, when set, says the server sent only the newest of the room's
	// messages: those between the call's since and Gap (a position History
	// reads back from) are left out.
	Gap string
}

// HistoryReader is a Client that reads who sent which message when in a
// room's past, never what a message says.
type HistoryReader interface {
	// History reads the room's messages newest first, in at most
	// r.MaxPages requests.
	History(ctx context.Context, roomID string, r HistoryRange) (msgs []insights.Message, complete bool, err error)
	// Sender is who sent one of the room's events: the person a late answer
	// answers.
	Sender(ctx context.Context, roomID, eventID string) (string, error)
}

// HistoryRange is the part of a room's past History reads: back from From (a
// stream position, SyncBatch.Next or RoomMessages.Gap; "" is now) to the first
// of the messages Seen, or the first message before Since, whichever comes
// first. (Matrix's own end position, /messages' "to", is not honoured by every
// server: Dendrite reads past it.)
type HistoryRange struct {
	From     string
	Seen     []string
	Since    time.Time
	MaxPages int
}
