package eventrecorder

import (
	"container/list"
	"time"
)

// series is what the recorder remembers of one event it sent, to fold its
// repeats into the event's series instead of sending each again: where the
// event is, how often it happened and how often the API server was told.
// About 150 bytes, whatever the event said.
type series struct {
	key        uint64
	namespace  string
	name       string
	count      int32 // occurrences seen
	written    int32 // occurrences the API server's copy counts
	last       time.Time
	lastWrite  time.Time
	orderEntry *list.Element
}

// dirty says the API server's copy counts fewer occurrences than were seen.
func (s *series) dirty() bool { return s.count > s.written }

// seriesMemory remembers at most max series, each for window after it was
// last seen: client-go's broadcaster keeps every event it sent, whole, for 6
// to 12 minutes, which at 10,000 new spaces was a quarter of the manager's
// heap. Least recently seen goes first when full.
type seriesMemory struct {
	max    int
	window time.Duration
	byKey  map[uint64]*series
	order  *list.List // least recently seen at the front
}

func newSeriesMemory(max int, window time.Duration) *seriesMemory {
	return &seriesMemory{max: max, window: window, byKey: map[uint64]*series{}, order: list.New()}
}

// seen records another occurrence of the event with key, if it is
// remembered and was last seen within the window; it says whether it was.
func (m *seriesMemory) seen(key uint64, now time.Time) (*series, bool) {
	s, ok := m.byKey[key]
	if !ok {
		return nil, false
	}
	if now.Sub(s.last) > m.window {
		m.forget(s)
		return nil, false
	}
	s.count++
	s.last = now
	m.order.MoveToBack(s.orderEntry)
	return s, true
}

// remember keeps the event just sent as namespace/name. When full it makes
// room by forgetting the series seen longest ago, and returns it if the API
// server's copy still lacks occurrences, for the caller to write.
func (m *seriesMemory) remember(key uint64, namespace, name string, now time.Time) (evicted *series) {
	if old, ok := m.byKey[key]; ok {
		m.forget(old)
	}
	if m.order.Len() >= m.max {
		oldest := m.order.Front().Value.(*series)
		m.forget(oldest)
		if oldest.dirty() {
			evicted = oldest
		}
	}
	s := &series{key: key, namespace: namespace, name: name, count: 1, written: 1, last: now, lastWrite: now}
	s.orderEntry = m.order.PushBack(s)
	m.byKey[key] = s
	return evicted
}

// sweep forgets the series not seen within the window and returns those
// whose count the API server lacks, with the ones still remembered that
// were last written at least every ago and have new occurrences.
func (m *seriesMemory) sweep(now time.Time, every time.Duration) (toWrite []*series) {
	for e := m.order.Front(); e != nil; {
		s := e.Value.(*series)
		e = e.Next()
		expired := now.Sub(s.last) > m.window
		if expired {
			m.forget(s)
		}
		if s.dirty() && (expired || now.Sub(s.lastWrite) >= every) {
			toWrite = append(toWrite, s)
		}
	}
	return toWrite
}

// forget drops s, if it is still the series remembered under its key.
func (m *seriesMemory) forget(s *series) {
	if m.byKey[s.key] != s {
		return
	}
	delete(m.byKey, s.key)
	m.order.Remove(s.orderEntry)
}

func (m *seriesMemory) len() int { return m.order.Len() }
