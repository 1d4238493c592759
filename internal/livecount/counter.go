// Package livecount keeps the openness insights' counts live from a chat
// server's stream: the stream the operator already holds to see changes made by
// hand carries the rooms' messages too (who sent one, when, what it answers;
// never what it says), and a Counter adds them to an insights.Tally as they come.
// What the stream cannot carry is read from the rooms' history, within bounds:
// each room's past back to the longest window once, when the stream starts (a
// restart loses nothing and counts nothing twice: the past is read back from the
// very position the stream resumes at), and the messages a burst left out of a
// batch. In steady state the counts cost the chat server no request of their own.
package livecount

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/metrics"
)

// DefaultMaxPages reads up to 2,000 messages of a room's past.
const DefaultMaxPages = 20

// Keep is how far back the counts go: the longest window, and the day it
// started on.
const Keep = 31 * 24 * time.Hour

// Counter keeps one chat server's tally from its stream. The stream calls Begin
// when it starts at a position and Add with each batch; the insights call Need
// for the rooms they count. It is safe for concurrent use.
type Counter struct {
	// Backend names the ChatBackend in metrics.
	Backend string
	// Reader reads the rooms' past and who sent an answered message.
	Reader chat.HistoryReader
	// MaxPages bounds the requests that read a room's past (100 messages
	// each); DefaultMaxPages when 0.
	MaxPages int
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	tally   *insights.Tally
	start   string // the position the stream started at: the room's past ends there
	begun   bool
	rooms   map[string]*room
	senders *senders
	queue   chan string
	stop    context.CancelFunc
}

// room is what the Counter knows of one room.
type room struct {
	past pastState
	// incomplete: its past was longer than MaxPages read.
	incomplete bool
	// lastSeen are the newest messages counted, newest last: a gap is read back
	// to the first of them it meets.
	lastSeen []string
}

type pastState int

const (
	pastUnread pastState = iota
	pastFilling
	pastCounted
)

// lastSeenKept is how many of a room's newest messages it remembers: one
// would do, unless it was deleted for good.
const lastSeenKept = 4

func (c *Counter) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Begin starts the counts afresh at a stream position, as the stream (re)starts
// there: everything after it comes in the stream, everything before it from the
// rooms' past, read by a filler that runs until ctx ends or Begin is called again.
func (c *Counter) Begin(ctx context.Context, position string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		c.stop()
	}
	c.tally, c.start, c.begun = insights.NewTally(), position, true
	c.rooms, c.senders = map[string]*room{}, newSenders(senderCacheSize)
	c.queue = make(chan string, fillQueue)
	ctx, c.stop = context.WithCancel(ctx)
	go c.fill(ctx, c.queue, position)
}

// fillQueue bounds the rooms waiting for their past to be read; Need asks
// again for the ones that did not fit.
const fillQueue = 4096

// Tally is the counts, nil before the stream began.
func (c *Counter) Tally() *insights.Tally {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tally
}

// Need reports whether the past of every one of the rooms is counted, and
// whether the past of any was too long to read whole; it asks for the past of
// the others to be read.
func (c *Counter) Need(rooms []string) (ready, incomplete bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.begun {
		return false, false
	}
	ready = true
	for _, id := range rooms {
		r := c.room(id)
		incomplete = incomplete || r.incomplete
		if r.past == pastCounted {
			continue
		}
		ready = false
		if r.past == pastUnread {
			select {
			case c.queue <- id:
				r.past = pastFilling
			default: // asked again at the next Need
			}
		}
	}
	return ready, incomplete
}

// room returns the room's state, made on first use; called with mu held.
func (c *Counter) room(id string) *room {
	r := c.rooms[id]
	if r == nil {
		r = &room{}
		c.rooms[id] = r
	}
	return r
}

// Add counts what a stream batch carried. A room whose batch left messages out
// (a gap) has them read back first, inline, so the stream's order holds.
func (c *Counter) Add(ctx context.Context, batch chat.SyncBatch) {
	for _, rm := range batch.Messages {
		if rm.Gap != "" {
			c.readGap(ctx, rm.Room, rm.Gap)
		}
		c.count(ctx, rm.Room, rm.Messages)
	}
	if t := c.Tally(); t != nil {
		t.Forget(insights.DayOf(c.now().Add(-Keep)))
	}
}

// readGap counts the messages of a room that the server left out of a batch:
// back from the gap to the last message counted. A room of which nothing was
// counted yet, and whose past is not being read, has its whole past read from
// the gap instead (the past and the gap in one); one whose past a filler is
// reading has that read dropped, as the two would overlap.
func (c *Counter) readGap(ctx context.Context, roomID, gap string) {
	c.mu.Lock()
	r := c.room(roomID)
	seen := append([]string(nil), r.lastSeen...)
	wholePast := len(seen) == 0 && r.past != pastCounted
	if wholePast {
		r.past = pastCounted // a filler reading it meanwhile drops what it read
	}
	c.mu.Unlock()
	reason := "gap"
	if wholePast {
		reason = "past"
	}
	msgs, complete := c.readBack(ctx, roomID, chat.HistoryRange{From: gap, Seen: seen}, reason)
	if wholePast && !complete {
		c.mu.Lock()
		r.incomplete = true
		c.mu.Unlock()
	}
	c.count(ctx, roomID, oldestFirst(msgs))
}

// readBack reads a room's messages within the counts' reach.
func (c *Counter) readBack(ctx context.Context, roomID string, hr chat.HistoryRange, reason string) ([]insights.Message, bool) {
	hr.Since, hr.MaxPages = c.now().Add(-Keep), cmp.Or(c.MaxPages, DefaultMaxPages)
	msgs, complete, err := c.Reader.History(ctx, roomID, hr)
	metrics.InsightsChatRequests.WithLabelValues(c.Backend, reason).Inc()
	if err != nil {
		// What was read counts; the rest of this part of the room's past is
		// missing, which its figures say (incomplete).
		return msgs, false
	}
	return msgs, complete
}

// count adds messages of a room, oldest first.
func (c *Counter) count(ctx context.Context, roomID string, msgs []insights.Message) {
	if len(msgs) == 0 {
		return
	}
	c.mu.Lock()
	t, r := c.tally, c.room(roomID)
	for _, m := range msgs {
		c.senders.put(m.ID, m.Sender)
	}
	r.lastSeen = append(r.lastSeen, ids(msgs)...)
	r.lastSeen = r.lastSeen[max(0, len(r.lastSeen)-lastSeenKept):]
	c.mu.Unlock()
	for _, m := range msgs {
		c.add(ctx, t, m)
	}
	metrics.InsightsMessagesCounted.WithLabelValues(c.Backend).Add(float64(len(msgs)))
}

// add adds one message to t, with the answer it makes: to whom, from the
// messages counted lately, or else asked of the server.
func (c *Counter) add(ctx context.Context, t *insights.Tally, m insights.Message) {
	day := insights.DayOf(m.At)
	t.Sent(day, m.Room, m.Sender)
	if m.Answers == "" {
		return
	}
	c.mu.Lock()
	answered, ok := c.senders.get(m.Answers)
	c.mu.Unlock()
	if !ok {
		var err error
		answered, err = c.Reader.Sender(ctx, m.Room, m.Answers)
		metrics.InsightsChatRequests.WithLabelValues(c.Backend, "sender").Inc()
		if err != nil || answered == "" {
			return // an answer to a message the server does not show answers nobody
		}
		c.mu.Lock()
		c.senders.put(m.Answers, answered)
		c.mu.Unlock()
	}
	t.Answered(day, m.Room, m.Sender, answered)
}

// fill reads the past of the rooms queued, back from the stream's start, until
// ctx ends.
func (c *Counter) fill(ctx context.Context, queue <-chan string, start string) {
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-queue:
			c.fillRoom(ctx, id, start)
		}
	}
}

// fillRoom reads one room's past and counts it, unless the stream took the
// room over meanwhile or the counts began afresh.
func (c *Counter) fillRoom(ctx context.Context, id, start string) {
	c.mu.Lock()
	r := c.room(id)
	filling := r.past == pastFilling
	c.mu.Unlock()
	if !filling {
		return // the stream read it with a gap
	}
	msgs, complete := c.readBack(ctx, id, chat.HistoryRange{From: start}, "past")
	if ctx.Err() != nil {
		return
	}
	c.mu.Lock()
	if c.rooms[id] != r || r.past != pastFilling {
		c.mu.Unlock()
		return
	}
	r.past, r.incomplete = pastCounted, !complete
	// The stream's messages, if any came, are newer than the room's past.
	if len(r.lastSeen) == 0 && len(msgs) > 0 {
		r.lastSeen = []string{msgs[0].ID}
	}
	for _, m := range msgs {
		c.senders.put(m.ID, m.Sender)
	}
	t := c.tally
	c.mu.Unlock()
	for _, m := range oldestFirst(msgs) {
		c.add(ctx, t, m)
	}
	metrics.InsightsMessagesCounted.WithLabelValues(c.Backend).Add(float64(len(msgs)))
}

func oldestFirst(msgs []insights.Message) []insights.Message {
	out := make([]insights.Message, len(msgs))
	for i, m := range msgs {
		out[len(msgs)-1-i] = m
	}
	return out
}

func ids(msgs []insights.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}
