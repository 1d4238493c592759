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
// for the rooms they count, and Retain with all of them. Only the rooms asked
// for are counted: a room of a space that opted out, or that is no space's,
// counts for nothing, not even in memory. It is safe for concurrent use.
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

	mu    sync.Mutex
	tally *insights.Tally
	// position is where the batches counted so far end: a room first asked
	// for has its past read back from there.
	position string
	begun    bool
	// rooms are the rooms asked for.
	rooms   map[string]*room
	senders *senders
	queue   chan fillJob
	stop    context.CancelFunc
}

// fillJob is a room whose past is to be read back from a position.
type fillJob struct{ room, from string }

// room is what the Counter knows of a room asked for.
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
	pastFilling  pastState = iota // its past is being read
	pastCounting                  // read, and being added to the tally
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
	c.tally, c.position, c.begun = insights.NewTally(), position, true
	c.rooms, c.senders = map[string]*room{}, newSenders(senderCacheSize)
	c.queue = make(chan fillJob, fillQueue)
	ctx, c.stop = context.WithCancel(ctx)
	go c.fill(ctx, c.queue)
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
// whether the past of any was too long to read whole. A room asked for the
// first time is counted from then on, and its past read back from the end of
// the last batch counted.
func (c *Counter) Need(rooms []string) (ready, incomplete bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.begun {
		return false, false
	}
	ready = true
	for _, id := range rooms {
		r := c.rooms[id]
		if r == nil {
			select {
			case c.queue <- fillJob{room: id, from: c.position}:
				c.rooms[id] = &room{past: pastFilling}
			default: // asked again at the next Need
			}
			ready = false
			continue
		}
		incomplete = incomplete || r.incomplete
		ready = ready && r.past == pastCounted
	}
	return ready, incomplete
}

// Retain stops counting every room but these, and forgets what their
// messages added up to: the rooms of a space that opted out, or left.
func (c *Counter) Retain(rooms []string) {
	keep := map[string]bool{}
	for _, id := range rooms {
		keep[id] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.begun {
		return
	}
	for id := range c.rooms {
		if !keep[id] {
			delete(c.rooms, id)
		}
	}
	c.tally.Retain(keep)
}

// Add counts what a stream batch carried of the rooms asked for. A room whose
// batch left messages out (a gap) has them read back first, inline, so the
// stream's order holds.
func (c *Counter) Add(ctx context.Context, batch chat.SyncBatch) {
	c.mu.Lock()
	var counted []chat.RoomMessages
	for _, rm := range batch.Messages {
		if c.rooms[rm.Room] != nil {
			counted = append(counted, rm)
		}
	}
	// A room asked for from now on has its past read back from here: this
	// batch's messages are in it.
	c.position = batch.Next
	c.mu.Unlock()
	for _, rm := range counted {
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
	r := c.rooms[roomID]
	if r == nil {
		c.mu.Unlock()
		return // no longer asked for
	}
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
	t, r := c.tally, c.rooms[roomID]
	if r == nil {
		c.mu.Unlock()
		return // no longer asked for
	}
	for _, m := range msgs {
		c.senders.put(m.Room, m.ID, m.Sender)
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
	answered, ok := c.senders.get(m.Room, m.Answers)
	c.mu.Unlock()
	if !ok {
		var err error
		answered, err = c.Reader.Sender(ctx, m.Room, m.Answers)
		metrics.InsightsChatRequests.WithLabelValues(c.Backend, "sender").Inc()
		if err != nil || answered == "" {
			return // an answer to a message the server does not show answers nobody
		}
		c.mu.Lock()
		c.senders.put(m.Room, m.Answers, answered)
		c.mu.Unlock()
	}
	t.Answered(day, m.Room, m.Sender, answered)
}

// fill reads the past of the rooms queued until ctx ends.
func (c *Counter) fill(ctx context.Context, queue <-chan fillJob) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-queue:
			c.fillRoom(ctx, job.room, job.from)
		}
	}
}

// fillRoom reads one room's past, back from a position, and counts it, unless
// the stream took the room over meanwhile, the room is no longer asked for, or
// the counts began afresh.
func (c *Counter) fillRoom(ctx context.Context, id, from string) {
	c.mu.Lock()
	r := c.rooms[id]
	filling := r != nil && r.past == pastFilling
	c.mu.Unlock()
	if !filling {
		return // the stream read it with a gap, or it is no longer asked for
	}
	msgs, complete := c.readBack(ctx, id, chat.HistoryRange{From: from}, "past")
	if ctx.Err() != nil {
		return
	}
	c.mu.Lock()
	if c.rooms[id] != r || r.past != pastFilling {
		c.mu.Unlock()
		return
	}
	// Counting, not counted: the room is ready only once its past is in the
	// tally. Its newest message is seen, so a gap meanwhile reads back to it
	// rather than taking the past over (and with no message there is nothing
	// to count twice).
	r.past, r.incomplete = pastCounting, !complete
	if len(r.lastSeen) == 0 && len(msgs) > 0 { // the stream's, if any came, are newer
		r.lastSeen = []string{msgs[0].ID}
	}
	for _, m := range msgs {
		c.senders.put(m.Room, m.ID, m.Sender)
	}
	t := c.tally
	c.mu.Unlock()
	for _, m := range oldestFirst(msgs) {
		c.add(ctx, t, m)
	}
	metrics.InsightsMessagesCounted.WithLabelValues(c.Backend).Add(float64(len(msgs)))
	c.mu.Lock()
	if r.past == pastCounting {
		r.past = pastCounted
	}
	c.mu.Unlock()
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
