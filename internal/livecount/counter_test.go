package livecount

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/insights"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// server is a chat server's rooms as a log of messages: a position is an index
// into it, as a stream position is a point in the server's history.
type server struct {
	mu       sync.Mutex
	log      []insights.Message
	requests map[string]int // by kind: history, sender
	// hold, when set, keeps History waiting until it is closed.
	hold chan struct{}
	// fail is how many History calls fail before they answer.
	fail int
}

func (s *server) say(room, id, sender, answers string) insights.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := insights.Message{ID: id, Room: room, Sender: sender, Answers: answers, At: now.Add(-time.Duration(1000-len(s.log)) * time.Minute)}
	s.log = append(s.log, m)
	return m
}

func (s *server) position() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.Itoa(len(s.log))
}

// batch is what the stream carries of the messages after position since, at
// most limit per room (a gap before them otherwise).
func (s *server) batch(since string, limit int) chat.SyncBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	from, _ := strconv.Atoi(since)
	byRoom := map[string][]int{}
	for i := from; i < len(s.log); i++ {
		byRoom[s.log[i].Room] = append(byRoom[s.log[i].Room], i)
	}
	b := chat.SyncBatch{Next: strconv.Itoa(len(s.log))}
	for room, idx := range byRoom {
		rm := chat.RoomMessages{Room: room}
		if len(idx) > limit {
			idx = idx[len(idx)-limit:]
			rm.Gap = strconv.Itoa(idx[0])
		}
		for _, i := range idx {
			rm.Messages = append(rm.Messages, s.log[i])
		}
		b.Messages = append(b.Messages, rm)
	}
	return b
}

func (s *server) History(ctx context.Context, roomID string, r chat.HistoryRange) ([]insights.Message, bool, error) {
	s.mu.Lock()
	hold := s.hold
	s.requests["history"]++
	s.mu.Unlock()
	if hold != nil {
		<-hold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return nil, false, errors.New("502 Bad Gateway")
	}
	from := len(s.log)
	if r.From != "" {
		from, _ = strconv.Atoi(r.From)
	}
	var out []insights.Message
	for i := from - 1; i >= 0; i-- {
		m := s.log[i]
		if m.Room != roomID {
			continue
		}
		if m.At.Before(r.Since) || slices.Contains(r.Seen, m.ID) {
			return out, true, nil
		}
		if len(out) == r.MaxPages*2 { // pages of 2
			return out, false, nil
		}
		out = append(out, m)
	}
	return out, true, nil
}

func (s *server) Sender(ctx context.Context, roomID, eventID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests["sender"]++
	for _, m := range s.log {
		if m.ID == eventID && m.Room == roomID {
			return m.Sender, nil
		}
	}
	return "", nil
}

// sent is the tally's count of messages and answers in a room.
func sent(t *insights.Tally, room string) (msgs, answers int) {
	org := insights.Org{Spaces: map[string]insights.Space{"s": {}}, Rooms: map[string]insights.Room{room: {Space: "s"}}}
	f := insights.CountTallies(org, []*insights.Tally{t}, insights.Window{From: now.Add(-Keep), To: now.Add(time.Hour)}, 1).Spaces["s"]
	return int(f.Messages.Value), int(f.CrossAnswers.Value)
}

func waitReady(t *testing.T, c *Counter, rooms ...string) bool {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ready, incomplete := c.Need(rooms); ready {
			return incomplete
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the past of %v was never counted", rooms)
	return false
}

// TestCounterCountsEachMessageOnce: the past before the stream's start, the
// stream after it, the gaps a burst leaves and a room the stream took over
// while its past was being read add up to every message exactly once, and an
// answer to a message counted lately costs no request.
func TestCounterCountsEachMessageOnce(t *testing.T) {
	cases := map[string]struct {
		// before the stream starts, between start and the first batch, then per batch
		past, early int
		batches     []int
		limit       int
		holdFill    bool // the room's past is still being read when a gap comes
		maxPages    int
		wantPast    int // history requests for the past
		incomplete  bool
	}{
		"past and stream":                {past: 5, early: 3, batches: []int{2, 4}, limit: 50, maxPages: 10},
		"a burst's gap read back":        {past: 5, batches: []int{2, 9, 1}, limit: 3, maxPages: 10},
		"a gap before the past was read": {past: 5, batches: []int{9}, limit: 3, holdFill: true, maxPages: 10},
		"no past at all, then a gap":     {batches: []int{7}, limit: 3, maxPages: 10},
		"a past longer than its pages":   {past: 9, batches: []int{1}, limit: 50, maxPages: 2, incomplete: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := &server{requests: map[string]int{}}
			say := func(n int, prefix string) {
				for i := range n {
					s.say("!r", prefix+strconv.Itoa(i), "p"+strconv.Itoa(i%3), "")
				}
			}
			say(tc.past, "past")
			c := &Counter{Backend: "b", Reader: s, MaxPages: tc.maxPages, Now: func() time.Time { return now }}
			since := s.position()
			c.Begin(ctx, since)
			if tc.holdFill {
				s.hold = make(chan struct{})
			}
			c.Need([]string{"!r"})
			say(tc.early, "early")
			for i, n := range tc.batches {
				say(n, "b"+strconv.Itoa(i)+"-")
				b := s.batch(since, tc.limit)
				since = b.Next
				if tc.holdFill && i == 0 {
					go func() { time.Sleep(20 * time.Millisecond); close(s.hold) }()
				}
				c.Add(ctx, b)
			}
			incomplete := waitReady(t, c, "!r")
			want := tc.past + tc.early
			for _, n := range tc.batches {
				want += n
			}
			if tc.incomplete {
				want -= tc.past - 2*tc.maxPages
			}
			if got, _ := sent(c.Tally(), "!r"); got != want {
				t.Errorf("counted %d messages, want %d", got, want)
			}
			if incomplete != tc.incomplete {
				t.Errorf("incomplete = %v, want %v", incomplete, tc.incomplete)
			}
		})
	}
}

// TestCounterAnswers: an answer to a message counted lately is resolved from
// memory; one to a message whose past is still being read asks the server once.
// A room no longer retained counts for nothing; Begin starts afresh.
func TestCounterAnswers(t *testing.T) {
	ctx := context.Background()
	s := &server{requests: map[string]int{}, hold: make(chan struct{})}
	s.say("!r", "old", "ann", "")
	c, since := begin(t, s)
	c.Need([]string{"!r"}) // its past is being read: held
	s.say("!r", "q", "bob", "")
	s.say("!r", "a1", "cat", "q")
	s.say("!r", "a2", "cat", "old")
	b := s.batch(since, 50)
	c.Add(ctx, b)
	close(s.hold)
	waitReady(t, c, "!r")
	if msgs, answers := sent(c.Tally(), "!r"); msgs != 4 || answers != 2 {
		t.Errorf("messages, answers = %d, %d; want 4, 2", msgs, answers)
	}
	if s.requests["sender"] != 1 {
		t.Errorf("sender requests = %d, want 1 (for the message before the stream, whose past was not read yet)", s.requests["sender"])
	}

	c.Retain(nil)
	s.say("!r", "later", "bob", "")
	c.Add(ctx, s.batch(b.Next, 50))
	if msgs, _ := sent(c.Tally(), "!r"); msgs != 0 {
		t.Errorf("a room no longer retained still counts %d messages", msgs)
	}

	c.Begin(ctx, s.position())
	if ready, _ := c.Need([]string{"!r"}); ready {
		t.Error("after Begin, the room's past is counted already")
	}
}

// TestARoomAskedForLaterCountsFromItsWholePast: a room first asked for after
// batches passed it by has its past read back from the last batch, so its
// messages in those batches count once.
func TestARoomAskedForLaterCountsFromItsWholePast(t *testing.T) {
	ctx := context.Background()
	s := &server{requests: map[string]int{}}
	c, since := begin(t, s)
	c.Need([]string{"!a"})
	for i := range 3 {
		s.say("!a", "a"+strconv.Itoa(i), "ann", "")
		s.say("!b", "b"+strconv.Itoa(i), "bob", "")
		b := s.batch(since, 50)
		since = b.Next
		c.Add(ctx, b)
	}
	waitReady(t, c, "!a", "!b")
	s.say("!b", "b-last", "bob", "")
	c.Add(ctx, s.batch(since, 50))
	if a, _ := sent(c.Tally(), "!a"); a != 3 {
		t.Errorf("!a counted %d messages, want 3", a)
	}
	if b, _ := sent(c.Tally(), "!b"); b != 4 {
		t.Errorf("!b counted %d messages, want 4", b)
	}
}

// TestAnAnswerIntoAnotherRoomAnswersNobody: anyone can write a reply relation
// to any event id; one naming a message of another room, even one counted
// lately, makes no answer (as TestCompute has it for history).
func TestAnAnswerIntoAnotherRoomAnswersNobody(t *testing.T) {
	ctx := context.Background()
	s := &server{requests: map[string]int{}}
	c, since := begin(t, s)
	waitReady(t, c, "!a", "!b")
	s.say("!b", "elsewhere", "bob", "")
	s.say("!a", "forged", "cat", "elsewhere")
	c.Add(ctx, s.batch(since, 50))
	if msgs, answers := sent(c.Tally(), "!a"); msgs != 1 || answers != 0 {
		t.Errorf("room !a: %d messages, %d answers; want 1 and none", msgs, answers)
	}
}

// TestAFailedReadOfThePastIsTriedAgain: a room whose past could not be read
// (the server down at a start) is not ready, and is read again until it is:
// nothing lost, nothing counted twice.
func TestAFailedReadOfThePastIsTriedAgain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &server{requests: map[string]int{}, fail: 1}
	for i := range 3 {
		s.say("!r", "p"+strconv.Itoa(i), "ann", "")
	}
	c := &Counter{Backend: "b", Reader: s, MaxPages: 10, Now: func() time.Time { return now }}
	c.Begin(ctx, s.position())
	if ready, _ := c.Need([]string{"!r"}); ready {
		t.Fatal("ready before its past was read")
	}
	if incomplete := waitReady(t, c, "!r"); incomplete {
		t.Error("the past read again is incomplete")
	}
	if msgs, _ := sent(c.Tally(), "!r"); msgs != 3 || s.requests["history"] != 2 {
		t.Errorf("%d messages counted in %d reads; want 3 in 2 (one failed)", msgs, s.requests["history"])
	}
}

// TestARoomDroppedAndAskedForAgainCountsOnce: a room dropped (its space opted
// out) while the read of its past waits its turn, and asked for again later,
// is counted from its second asking: the first read, from an older position,
// is not made.
func TestARoomDroppedAndAskedForAgainCountsOnce(t *testing.T) {
	ctx := context.Background()
	s := &server{requests: map[string]int{}, hold: make(chan struct{})}
	s.say("!r", "before", "ann", "")
	c, since := begin(t, s)
	c.Need([]string{"!busy"}) // the filler waits on the held server with this one
	c.Need([]string{"!r"})    // and !r waits its turn
	c.Retain([]string{"!busy"})
	s.say("!r", "while-dropped", "bob", "")
	c.Add(ctx, s.batch(since, 50))
	c.Need([]string{"!r"}) // asked for again: its past is read back from here
	close(s.hold)
	waitReady(t, c, "!r", "!busy")
	if msgs, _ := sent(c.Tally(), "!r"); msgs != 2 {
		t.Errorf("%d messages counted, want 2", msgs)
	}
}

// begin starts a counter on the server at its position now, stopped with the
// test, and returns it with that position.
func begin(t *testing.T, s *server) (*Counter, string) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &Counter{Backend: "b", Reader: s, MaxPages: 10, Now: func() time.Time { return now }}
	since := s.position()
	c.Begin(ctx, since)
	return c, since
}

// TestMadeUpAnswersCostFewRequests: a person who sends replies naming events
// that do not exist costs at most maxLookups sender requests a batch, and
// naming them again costs none; none of them answers anyone.
func TestMadeUpAnswersCostFewRequests(t *testing.T) {
	ctx := context.Background()
	s := &server{requests: map[string]int{}}
	c, since := begin(t, s)
	waitReady(t, c, "!r")
	for i := range 30 {
		s.say("!r", "m"+strconv.Itoa(i), "eve", "$made-up-"+strconv.Itoa(i%12))
	}
	b := s.batch(since, 50)
	c.Add(ctx, b)
	for i := range 12 { // the same made-up events again
		s.say("!r", "again"+strconv.Itoa(i), "eve", "$made-up-"+strconv.Itoa(i))
	}
	c.Add(ctx, s.batch(b.Next, 50))
	if got := s.requests["sender"]; got > 2*maxLookups {
		t.Errorf("%d sender requests for made-up answers, want at most %d", got, 2*maxLookups)
	}
	if msgs, answers := sent(c.Tally(), "!r"); msgs != 42 || answers != 0 {
		t.Errorf("%d messages, %d answers; want 42 messages answering nobody", msgs, answers)
	}
}
