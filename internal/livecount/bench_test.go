package livecount

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/insights"
)

// BenchmarkCounterAdd is the counts' own cost per message the stream carries:
// 1,000 rooms of 20 people, batches of 100 messages across them, half
// answering a message counted lately (no request). ns/op is per message.
func BenchmarkCounterAdd(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &server{requests: map[string]int{}}
	c := &Counter{Backend: "bench", Reader: s, Now: func() time.Time { return now }}
	c.Begin(ctx, "0")
	rooms := make([]string, 1000)
	for i := range rooms {
		rooms[i] = "!room" + strconv.Itoa(i)
	}
	for _, r := range rooms {
		c.Need([]string{r})
	}
	for {
		if ready, _ := c.Need(rooms); ready {
			break
		}
	}
	const perBatch = 100
	batch := chat.SyncBatch{Messages: make([]chat.RoomMessages, perBatch)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += perBatch {
		for j := range perBatch {
			n := i + j
			room := rooms[n%len(rooms)]
			m := insights.Message{ID: "$" + strconv.Itoa(n), Room: room, Sender: "@p" + strconv.Itoa(n%20) + ":x", At: now}
			if n >= len(rooms) && n%2 == 0 {
				m.Answers = "$" + strconv.Itoa(n-len(rooms)) // the room's message before
			}
			batch.Messages[j] = chat.RoomMessages{Room: room, Messages: []insights.Message{m}}
		}
		c.Add(ctx, batch)
	}
	b.StopTimer()
	if s.requests["sender"] != 0 {
		b.Errorf("%d sender requests, want none: every answer is to a message counted lately", s.requests["sender"])
	}
	b.ReportMetric(float64(c.Tally().Entries())/float64(len(rooms)), "counts/room")
}

// BenchmarkTallyMemory is the heap a tally keeps per count: 1,000 rooms, 20
// people talking in each every day for 31 days, each answering two others.
func BenchmarkTallyMemory(b *testing.B) {
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t := insights.NewTally()
		for d := range insights.Day(31) {
			for r := range 1000 {
				room := "!room" + strconv.Itoa(r) + ":example.org"
				for p := range 20 {
					person := "@person" + strconv.Itoa(p) + ":example.org"
					t.Sent(d, room, person)
					t.Answered(d, room, person, "@person"+strconv.Itoa((p+1)%20)+":example.org")
					t.Answered(d, room, person, "@person"+strconv.Itoa((p+2)%20)+":example.org")
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/float64(t.Entries()), "B/count")
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/(1<<20), "MiB/1000rooms")
		runtime.KeepAlive(t)
	}
}
