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
	"errors"
	"slices"
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
type fillJob struct {
	r    *room
	from string
}

// room is what the Counter knows of a room asked for.
type room struct {
	id   string
	past pastState
	// incomplete: its past was longer than MaxPages read.
	incomplete bool
	// lastSeen are the newest messages counted, newest last: a gap is read back
	// to the first of them it meets.
	lastSeen []string
}

type pastState int

const (
	pastFilling pastState = iota // a filler reads its past, or will
	pastReading                  // the stream reads its past with a gap
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
			r = &room{id: id, past: pastFilling}
			select {
			case c.queue <- fillJob{r: r, from: c.position}:
				c.rooms[id] = r
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
	dropped := false
	for id := range c.rooms {
		if !keep[id] {
			delete(c.rooms, id)
			dropped = true
		}
	}
	if dropped { // every computation asks; the tally is walked only when a room went
		c.tally.Retain(keep)
	}
}

// Add counts what a stream batch carried of the rooms asked for. A room whose
// batch left messages out (a gap) has them read back first, inline, so the
// stream's order holds.
func (c *Counter) Add(ctx context.Context, batch chat.SyncBatch) {
	type roomBatch struct {
		r  *room
		rm chat.RoomMessages
	}
	c.mu.Lock()
	var counted []roomBatch
	for _, rm := range batch.Messages {
		if r := c.rooms[rm.Room]; r != nil {
			counted = append(counted, roomBatch{r, rm})
		}
	}
	// A room asked for from now on has its past read back from here: this
	// batch's messages are in it.
	c.position = batch.Next
	c.mu.Unlock()
	for _, b := range counted {
		if b.rm.Gap != "" {
			c.readGap(ctx, b.r, b.rm.Gap)
		}
		c.count(ctx, b.r, b.rm.Messages, false)
	}
	if t := c.Tally(); t != nil {
		t.Forget(insights.DayOf(c.now().Add(-Keep)))
	}
}

// readGap counts the messages of a room that the server left out of a batch:
// back from the gap to the last message counted. A room of which nothing was
// counted yet has its whole past read from the gap instead (the past and the
// gap in one); a filler reading it meanwhile drops what it read, as the two
// would overlap. A gap not read whole makes the room's figures incomplete.
func (c *Counter) readGap(ctx context.Context, r *room, gap string) {
	c.mu.Lock()
	if c.rooms[r.id] != r {
		c.mu.Unlock()
		return // no longer asked for
	}
	seen := slices.Clone(r.lastSeen)
	wholePast := len(seen) == 0 && r.past != pastCounted
	if wholePast {
		r.past = pastReading
	}
	c.mu.Unlock()
	reason := "gap"
	if wholePast {
		reason = "past"
	}
	msgs, complete, err := c.readBack(ctx, r.id, chat.HistoryRange{From: gap, Seen: seen}, reason)
	if wholePast && err != nil {
		// Nothing counted: the filler reads the room's past from the gap again.
		c.requeue(r, gap)
		return
	}
	c.count(ctx, r, oldestFirst(msgs), false)
	c.mu.Lock()
	r.incomplete = r.incomplete || !complete
	if r.past == pastReading {
		r.past = pastCounted
	}
	c.mu.Unlock()
}

// requeue has the filler read a room's past from a position again.
func (c *Counter) requeue(r *room, from string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rooms[r.id] != r {
		return
	}
	r.past = pastFilling
	select {
	case c.queue <- fillJob{r: r, from: from}:
	default:
		delete(c.rooms, r.id) // asked for afresh at the next Need
	}
}

// readBack reads a room's messages within the counts' reach. On an error,
// msgs are those read before it.
func (c *Counter) readBack(ctx context.Context, roomID string, hr chat.HistoryRange, reason string) ([]insights.Message, bool, error) {
	hr.Since, hr.MaxPages = c.now().Add(-Keep), cmp.Or(c.MaxPages, DefaultMaxPages)
	msgs, complete, err := c.Reader.History(ctx, roomID, hr)
	metrics.InsightsChatRequests.WithLabelValues(c.Backend, reason).Inc()
	return msgs, complete && err == nil, err
}

// answer is a message to add, with the person it answers ("" for none).
type answer struct {
	msg      insights.Message
	answered string
}

// count adds messages of a room, oldest first, unless the room is no longer
// asked for: whom they answer is found first, and then they are added at
// once, so that a Retain meanwhile leaves nothing of the room behind. past
// says they are a filler's, older than any the stream counted.
func (c *Counter) count(ctx context.Context, r *room, msgs []insights.Message, past bool) {
	if len(msgs) == 0 {
		return
	}
	c.mu.Lock()
	for _, m := range msgs {
		c.senders.put(m.Room, m.ID, m.Sender)
	}
	c.mu.Unlock()
	resolved := c.resolve(ctx, msgs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rooms[r.id] != r {
		return // no longer asked for
	}
	for _, a := range resolved {
		day := insights.DayOf(a.msg.At)
		c.tally.Sent(day, a.msg.Room, a.msg.Sender)
		if a.answered != "" {
			c.tally.Answered(day, a.msg.Room, a.msg.Sender, a.answered)
		}
	}
	if !past { // a filler's are older, and its newest seen already (fillRoom)
		r.lastSeen = append(r.lastSeen, ids(msgs)...)
		r.lastSeen = r.lastSeen[max(0, len(r.lastSeen)-lastSeenKept):]
	}
	metrics.InsightsMessagesCounted.WithLabelValues(c.Backend).Add(float64(len(msgs)))
}

// maxLookups bounds the senders one batch of a room may ask the server for:
// anyone in a room can send replies naming made-up events, and each would
// otherwise cost a request on the stream's own goroutine. An answer past the
// bound answers nobody.
const maxLookups = 10

// resolve finds whom each message answers: the sender of a message counted
// lately, or else asked of the server (outside the lock), at most maxLookups
// times. An event the server does not show is remembered as answering nobody,
// so naming it again costs nothing.
func (c *Counter) resolve(ctx context.Context, msgs []insights.Message) []answer {
	out := make([]answer, len(msgs))
	lookups := 0
	for i, m := range msgs {
		out[i].msg = m
		if m.Answers == "" {
			continue
		}
		c.mu.Lock()
		answered, ok := c.senders.get(m.Room, m.Answers)
		c.mu.Unlock()
		if !ok {
			if lookups == maxLookups {
				continue
			}
			lookups++
			var err error
			answered, err = c.Reader.Sender(ctx, m.Room, m.Answers)
			metrics.InsightsChatRequests.WithLabelValues(c.Backend, "sender").Inc()
			if err != nil && !errors.Is(err, chat.ErrNotFound) && !errors.Is(err, chat.ErrForbidden) {
				continue // the server failed: asked again if named again
			}
			c.mu.Lock()
			c.senders.put(m.Room, m.Answers, answered) // "" when it does not show it
			c.mu.Unlock()
		}
		out[i].answered = answered
	}
	return out
}

// fill reads the past of the rooms queued until ctx ends. A read that failed
// (the server down, say) is tried again after a backoff, up to 30 s, with
// nothing of it counted meanwhile.
func (c *Counter) fill(ctx context.Context, queue <-chan fillJob) {
	var retry []fillJob
	backoff := time.Second
	for {
		var job fillJob
		if len(retry) > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			job, retry = retry[0], retry[1:]
		} else {
			select {
			case <-ctx.Done():
				return
			case job = <-queue:
			}
		}
		if c.fillRoom(ctx, job) {
			backoff = time.Second
			continue
		}
		if ctx.Err() != nil {
			return
		}
		retry = append(retry, job)
		backoff = min(2*backoff, 30*time.Second)
	}
}

// fillRoom reads one room's past, back from the job's position, and counts it,
// unless the stream took the room over meanwhile, or the room is no longer the
// one asked for (dropped, asked for again, or the counts began afresh). It
// reports false when the read failed.
func (c *Counter) fillRoom(ctx context.Context, job fillJob) bool {
	r := job.r
	c.mu.Lock()
	filling := c.rooms[r.id] == r && r.past == pastFilling
	c.mu.Unlock()
	if !filling {
		return true // the stream read it with a gap, or it is no longer asked for
	}
	msgs, complete, err := c.readBack(ctx, r.id, chat.HistoryRange{From: job.from}, "past")
	if err != nil {
		return false
	}
	c.mu.Lock()
	if c.rooms[r.id] != r || r.past != pastFilling {
		c.mu.Unlock()
		return true
	}
	r.incomplete = !complete
	// Still pastFilling while counted: not ready. Its newest message is seen
	// from now on, so a gap meanwhile reads back to it rather than taking the
	// past over (with no message there is nothing to count twice).
	if len(r.lastSeen) == 0 && len(msgs) > 0 { // the stream's, if any came, are newer
		r.lastSeen = []string{msgs[0].ID}
	}
	c.mu.Unlock()
	c.count(ctx, r, oldestFirst(msgs), true)
	c.mu.Lock()
	if c.rooms[r.id] == r && r.past == pastFilling {
		r.past = pastCounted
	}
	c.mu.Unlock()
	return true
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
