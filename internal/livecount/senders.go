package livecount

// senderCacheSize is how many messages' senders a Counter remembers, so that
// an answer to a recent message costs no request: about 100 bytes each.
const senderCacheSize = 50_000

// senders remembers who sent the messages counted lately, in two generations:
// when the newer is full it becomes the older, and the older is dropped. Its
// memory is bounded by twice the size; a lookup finds any of the last size
// messages put.
type senders struct {
	size         int
	newer, older map[string]string
}

func newSenders(size int) *senders {
	return &senders{size: size, newer: map[string]string{}, older: map[string]string{}}
}

// put remembers who sent a message of a room. A message is known by room and
// id together: a reply in one room naming an event of another (anyone can
// write such a relation) answers nobody, as Matrix replies stay in their room.
func (s *senders) put(room, id, sender string) {
	if len(s.newer) >= s.size {
		s.older, s.newer = s.newer, map[string]string{}
	}
	s.newer[room+" "+id] = sender
}

func (s *senders) get(room, id string) (string, bool) {
	key := room + " " + id
	if v, ok := s.newer[key]; ok {
		return v, true
	}
	v, ok := s.older[key]
	return v, ok
}
