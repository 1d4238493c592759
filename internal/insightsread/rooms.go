package insightsread

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/livecount"
)

// roomReader finds what a room's messages add up to: its history read now
// (collabctl report), or the live count of its chat server's stream (the
// manager).
type roomReader interface {
	// read returns the room's messages, or none when they are counted
	// elsewhere (a tally), and whether all of them within reach are there.
	read(ctx context.Context, c chat.Client, roomID string) (msgs []insights.Message, complete bool, err error)
}

// historyRooms read each room's history back to since, in at most maxPages
// requests.
type historyRooms struct {
	since    time.Time
	maxPages int
}

func (h historyRooms) read(ctx context.Context, c chat.Client, roomID string) ([]insights.Message, bool, error) {
	reader, ok := c.(chat.HistoryReader)
	if !ok {
		return nil, false, errors.New("its chat server's client cannot read history")
	}
	msgs, complete, err := reader.History(ctx, roomID, chat.HistoryRange{Since: h.since, MaxPages: h.maxPages})
	if err != nil {
		return nil, false, fmt.Errorf("cannot read its history: %w", err)
	}
	return msgs, complete, nil
}

// errPastPending: the room's past is still being counted.
var errPastPending = errors.New("its past messages are still being counted")

// liveRooms are counted by their chat server's stream: reading one costs no
// request, and asks for its past to be counted when it is not yet.
type liveRooms struct {
	counter *livecount.Counter
}

func (l liveRooms) read(_ context.Context, _ chat.Client, roomID string) ([]insights.Message, bool, error) {
	if l.counter == nil {
		return nil, false, errors.New("its ChatBackend's stream is not running: its messages are not counted")
	}
	ready, incomplete := l.counter.Need([]string{roomID})
	if !ready {
		return nil, false, errPastPending
	}
	return nil, !incomplete, nil
}

// tally is the counts the rooms are read from, nil while there are none.
func (l liveRooms) tally() *insights.Tally {
	if l.counter == nil {
		return nil
	}
	return l.counter.Tally()
}
