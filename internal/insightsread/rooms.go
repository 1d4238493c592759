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

// pending is why a room's messages are not counted yet; asking again soon
// finds them.
type pending string

func (p pending) Error() string { return string(p) }

// isPending reports whether err says only that a room is not counted yet.
func isPending(err error) bool {
	var p pending
	return errors.As(err, &p)
}

// liveCounts are the live counts of the ChatBackends' streams, and the rooms
// one Read asks each for.
type liveCounts struct {
	of     func(backend string) *livecount.Counter
	needed map[*livecount.Counter][]string
}

// rooms reads the rooms of a backend from its live count.
func (l *liveCounts) rooms(backend string) liveRooms {
	counter := l.of(backend)
	if _, seen := l.needed[counter]; counter != nil && !seen {
		l.needed[counter] = nil // retained, even if none of its spaces is counted
	}
	return liveRooms{counter: counter, counts: l}
}

// retain has each count keep only the rooms this Read asked for (a space that
// opted out since, or was deleted, counts for nothing any more) and returns
// their tallies.
func (l *liveCounts) retain() []*insights.Tally {
	var out []*insights.Tally
	for counter, rooms := range l.needed {
		counter.Retain(rooms)
		if t := counter.Tally(); t != nil {
			out = append(out, t)
		}
	}
	return out
}

// liveRooms are counted by their chat server's stream: reading one costs no
// request, and asks for it to be counted (and its past read) when it is not yet.
type liveRooms struct {
	counter *livecount.Counter
	counts  *liveCounts
}

func (l liveRooms) read(_ context.Context, _ chat.Client, roomID string) ([]insights.Message, bool, error) {
	if l.counter == nil {
		// Not yet, at a start (the ChatBackend's stream begins with its first
		// pass), or not while its server is unreachable: asked again soon.
		return nil, false, pending("its ChatBackend's stream does not count its messages yet")
	}
	l.counts.needed[l.counter] = append(l.counts.needed[l.counter], roomID)
	ready, incomplete := l.counter.Need([]string{roomID})
	if !ready {
		return nil, false, pending("its past messages are still being counted")
	}
	return nil, !incomplete, nil
}
