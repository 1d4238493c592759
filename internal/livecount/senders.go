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

func (s *senders) put(id, sender string) {
	if len(s.newer) >= s.size {
		s.older, s.newer = s.newer, map[string]string{}
	}
	s.newer[id] = sender
}

func (s *senders) get(id string) (string, bool) {
	if v, ok := s.newer[id]; ok {
		return v, true
	}
	v, ok := s.older[id]
	return v, ok
}
