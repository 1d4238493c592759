package insights

import "slices"

// DefaultMinPeople is the fewest distinct people a figure may rest on unless
// the platform team raises it.
const DefaultMinPeople = 5

// Compute counts the messages sent within w in the rooms of org's spaces.
// A count rests on the people who make it up (the senders, or both sides of
// the answers); a share rests on the people it is a share of (a department's
// people, its Owners, everyone counted). Any figure resting on one or more but
// fewer than minPeople distinct people is suppressed. An opted-out space
// is treated as absent: its rooms' messages count nowhere, and its people
// belong to their other departments only.
func Compute(org Org, msgs []Message, w Window, minPeople int) Report {
	minPeople = max(minPeople, 1)
	c := newCounter(org)
	for _, m := range msgs {
		c.senders[messageKey{m.Room, m.ID}] = m.Sender
	}
	for _, m := range msgs {
		if w.holds(m.At) {
			c.count(m)
		}
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
	depts   map[string][]string   // person -> the spaces declaring them
	senders map[messageKey]string // sender of each message
	spaces  map[string]*spaceTally
	answers map[[2]string]*cell
	// all messages counted and those in Open spaces or shared rooms
	total, open int
	everyone    people
}

func newCounter(org Org) *counter {
	c := &counter{org: org, depts: map[string][]string{}, senders: map[messageKey]string{},
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

// count adds one message sent within the window.
func (c *counter) count(m Message) {
	room, ok := c.org.Rooms[m.Room]
	if !ok {
		return
	}
	t, ok := c.spaces[room.Space]
	if !ok {
		return // not a space's room, or the space opted out
	}
	t.messages++
	t.senders.add(m.Sender)
	if !slices.Contains(c.depts[m.Sender], room.Space) {
		t.outsideMessages++
		t.outsiders.add(m.Sender)
	}
	c.total++
	c.everyone.add(m.Sender)
	if room.Shared || c.org.Spaces[room.Space].Open {
		c.open++
	}
	// A reply or a thread answer is in the room of the message it answers: one
	// naming a message of another room (anyone can write such a relation)
	// answers nobody.
	answered, ok := c.senders[messageKey{m.Room, m.Answers}]
	if m.Answers == "" || !ok || answered == m.Sender {
		return
	}
	if !shareDepartment(c.depts[m.Sender], c.depts[answered]) {
		t.crossAnswers++
		t.crossPeople.add(m.Sender, answered)
	}
	for _, from := range orOutside(c.depts[m.Sender]) {
		for _, to := range orOutside(c.depts[answered]) {
			k := [2]string{from, to}
			if c.answers[k] == nil {
				c.answers[k] = &cell{people: people{}}
			}
			c.answers[k].answers++
			c.answers[k].people.add(m.Sender, answered)
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
