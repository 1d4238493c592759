package insights

import "time"

// Outside is the department of people no space declares.
const Outside = "(outside)"

// Message is one message's metadata. Content never reaches the package.
type Message struct {
	// ID is the message's event id, which answers refer to.
	ID     string
	Room   string
	Sender string
	At     time.Time
	// Answers is the id of the message this one replies to or answers in a
	// thread; "" when it answers nothing.
	Answers string
}

// Org is the shape of the organisation the messages are read against.
type Org struct {
	// Spaces by "namespace/name".
	Spaces map[string]Space
	// Rooms by room id: the space each belongs to. Messages in other rooms
	// count for nothing.
	Rooms map[string]Room
	// Categories are the forum categories of the spaces with a forum, by the
	// space each belongs to ("namespace/name"). Posts in other categories
	// count for nothing.
	Categories map[CategoryRef]string
}

// Space is a department as its CollaborationSpace declares it.
type Space struct {
	// People are the user ids the space declares, directly or through its
	// groups, Owners included: the department's own people.
	People []string
	// Owners are the people holding the Owner role: its leaders.
	Owners []string
	// Open spaces are joinable by anyone.
	Open bool
	// OptedOut spaces (spec.insights) are measured not at all: neither their
	// figures nor their rooms' messages count anywhere.
	OptedOut bool
}

// Room is a room of a space.
type Room struct {
	Space string
	// Shared rooms are shared with other departments (sharedWith).
	Shared bool
}

// Window is the span messages are counted over: [From, To).
type Window struct {
	From, To time.Time
}

func (w Window) holds(t time.Time) bool { return !t.Before(w.From) && t.Before(w.To) }

// Figure is one number and the distinct people it rests on; Suppressed when
// they are fewer than the minimum, and then Value is 0.
type Figure struct {
	Value      float64
	People     int
	Suppressed bool
}

// SpaceFigures are what a space's rooms saw over a window.
type SpaceFigures struct {
	// Messages in the space's rooms, and ActivePeople who sent them.
	Messages, ActivePeople Figure
	// Breadth is the share of the department's own people who sent at least
	// one message in its rooms.
	Breadth Figure
	// Reach counts the people from other departments (or none) who took part
	// in its rooms; ReachShare is their share of its messages.
	Reach, ReachShare Figure
	// CrossAnswers are answers in its rooms where the person answering and the
	// person answered share no department.
	CrossAnswers Figure
	// Leaders is the share of its Owners who took part in its rooms.
	Leaders Figure
	// Forum is what its forum categories saw; nil for a space whose forum is
	// not counted (none, or a deployed forum).
	Forum *ForumFigures
}

// Report is what Compute found over one window.
type Report struct {
	Window Window
	// Spaces by key; an opted-out space has none.
	Spaces map[string]SpaceFigures
	// Answers counts who answers whom: Answers[from][to] is the number of
	// answers sent by people of department from to people of department to
	// (Outside for people no space declares). Someone in two departments
	// counts in both.
	Answers map[string]map[string]Figure
	// OpenShare is the share of all messages counted that were sent in the
	// rooms of Open spaces or in shared rooms.
	OpenShare Figure
}

// Post is one forum post's metadata: in which forum's category, by whom,
// when, and whether it opened its topic. Content never reaches the package.
type Post struct {
	Category CategoryRef
	// Poster is the forum account, as "<forum>/<uid>".
	Poster     string
	At         time.Time
	TopicStart bool
}

// CategoryRef is a category of one forum: a ForumBackend's name and the
// category's id there.
type CategoryRef struct {
	Forum string
	ID    int64
}

// ForumFigures are what a space's forum categories saw over a window: topics
// opened (resting on the people who opened them) and posts made (resting on
// the people who posted).
type ForumFigures struct {
	Topics, Posts Figure
}
