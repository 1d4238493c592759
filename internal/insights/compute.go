package insights

import (
	"slices"
	"time"
)

// DefaultMinPeople is the fewest distinct people a figure may rest on unless
// the platform team raises it.
const DefaultMinPeople = 5

// Compute counts the messages sent within w in the rooms of org's spaces.
// An answer counts when the message it answers is among msgs, within the
// window or not. See CountTallies for what the figures rest on.
func Compute(org Org, msgs []Message, w Window, minPeople int) Report {
	senders := map[messageKey]string{}
	for _, m := range msgs {
		senders[messageKey{m.Room, m.ID}] = m.Sender
	}
	t := NewTally()
	for _, m := range msgs {
		if !w.holds(m.At) {
			continue
		}
		t.Sent(DayOf(m.At), m.Room, m.Sender)
		if answered, ok := senders[messageKey{m.Room, m.Answers}]; ok && m.Answers != "" {
			t.Answered(DayOf(m.At), m.Room, m.Sender, answered)
		}
	}
	return CountTallies(org, []*Tally{t}, w, minPeople)
}

// CountTallies computes the figures of the days w touches from the tallies
// (one per chat server), in the rooms of org's spaces. A count rests on the
// people who make it up (the senders, or both sides of the answers); a share
// rests on the people it is a share of (a department's people, its Owners,
// everyone counted). Any figure resting on one or more but fewer than
// minPeople distinct people is suppressed. An opted-out space is treated as
// absent: its rooms' messages count nowhere, and its people belong to their
// other departments only.
func CountTallies(org Org, tallies []*Tally, w Window, minPeople int) Report {
	minPeople = max(minPeople, 1)
	c := newCounter(org)
	first, last := DayOf(w.From), DayOf(w.To.Add(-time.Nanosecond))
	for _, t := range tallies {
		t.each(first, last, c.countSent, c.countAnswers)
	}
	return c.report(w, minPeople)
}

// messageKey is a message by room and id.
type messageKey struct{ room, id string }

// people is a set of user ids.
type people map[string]bool

func (p people) add(ids ...string) {
	for _, id := range ids {
		p[id] = true
	}
}

// spaceTally is what a space's rooms saw.
type spaceTally struct {
	messages, outsideMessages, crossAnswers int
	senders, outsiders, crossPeople         people
}

// cell is one department pair of the answers matrix.
type cell struct {
	answers int
	people  people
}

type counter struct {
	org     Org
	depts   map[string][]string // person -> the spaces declaring them
	spaces  map[string]*spaceTally
	answers map[[2]string]*cell
	// all messages counted and those in Open spaces or shared rooms
	total, open int
	everyone    people
}

func newCounter(org Org) *counter {
	c := &counter{org: org, depts: map[string][]string{},
		spaces: map[string]*spaceTally{}, answers: map[[2]string]*cell{}, everyone: people{}}
	for key, s := range org.Spaces {
		if s.OptedOut {
			continue
		}
		c.spaces[key] = &spaceTally{senders: people{}, outsiders: people{}, crossPeople: people{}}
		for _, p := range s.People {
			if !slices.Contains(c.depts[p], key) {
				c.depts[p] = append(c.depts[p], key)
			}
		}
	}
	for p := range c.depts {
		slices.Sort(c.depts[p])
	}
	return c
}

// space is the tally of the space whose room this is; nil for a room of no
// space, or of a space that opted out.
func (c *counter) space(roomID string) (*spaceTally, Room) {
	room, ok := c.org.Rooms[roomID]
	if !ok {
		return nil, room
	}
	return c.spaces[room.Space], room
}

// countSent adds n messages sender sent in a room.
func (c *counter) countSent(roomID, sender string, n int) {
	t, room := c.space(roomID)
	if t == nil {
		return
	}
	t.messages += n
	t.senders.add(sender)
	if !slices.Contains(c.depts[sender], room.Space) {
		t.outsideMessages += n
		t.outsiders.add(sender)
	}
	c.total += n
	c.everyone.add(sender)
	if room.Shared || c.org.Spaces[room.Space].Open {
		c.open += n
	}
}

// countAnswers adds n answers sender sent to answered in a room. A reply or a
// thread answer is in the room of the message it answers: one naming a
// message of another room (anyone can write such a relation) answers nobody,
// and the tallies hold none.
func (c *counter) countAnswers(roomID, sender, answered string, n int) {
	t, _ := c.space(roomID)
	if t == nil {
		return
	}
	if !shareDepartment(c.depts[sender], c.depts[answered]) {
		t.crossAnswers += n
		t.crossPeople.add(sender, answered)
	}
	for _, from := range orOutside(c.depts[sender]) {
		for _, to := range orOutside(c.depts[answered]) {
			k := [2]string{from, to}
			if c.answers[k] == nil {
				c.answers[k] = &cell{people: people{}}
			}
			c.answers[k].answers += n
			c.answers[k].people.add(sender, answered)
		}
	}
}

func shareDepartment(a, b []string) bool {
	for _, d := range a {
		if slices.Contains(b, d) {
			return true
		}
	}
	return false
}

func orOutside(depts []string) []string {
	if len(depts) == 0 {
		return []string{Outside}
	}
	return depts
}
