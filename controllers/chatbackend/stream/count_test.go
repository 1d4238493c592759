package stream

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/livecount"
)

// tooBig is a server whose stream answers without messages, but not with them
// (an answer past the client's bound), and that records where the counts read
// a room's past from.
type tooBig struct {
	mu    sync.Mutex
	froms []string
}

func (s *tooBig) Sync(context.Context, string, time.Duration) (chat.SyncBatch, error) {
	return chat.SyncBatch{Next: "after-the-big-batch"}, nil
}

func (s *tooBig) SyncWithMessages(context.Context, string, time.Duration) (chat.SyncBatch, error) {
	return chat.SyncBatch{}, errors.New("matrix: sync: answer larger than 32 MiB")
}

func (s *tooBig) History(_ context.Context, _ string, r chat.HistoryRange) ([]insights.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.froms = append(s.froms, r.From)
	return nil, true, nil
}

func (s *tooBig) Sender(context.Context, string, string) (string, error) { return "", nil }

// TestABatchTooBigToCarryMessagesKeepsTheStream: when the stream cannot carry
// the messages but answers without them, it goes on from that answer, and the
// counts begin afresh there: a room's past is read back from that position.
func TestABatchTooBigToCarryMessagesKeepsTheStream(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &tooBig{}
	counter := &livecount.Counter{Backend: "b", Reader: s}
	src := batchSource{Syncer: s, messages: s, counter: counter}
	counter.Begin(ctx, "resumed-here")
	batch, err := src.next(ctx, "resumed-here")
	if err != nil || batch.Next != "after-the-big-batch" {
		t.Fatalf("next = %+v, %v; want the batch without messages", batch, err)
	}
	for ready, _ := counter.Need([]string{"!r"}); !ready; ready, _ = counter.Need([]string{"!r"}) {
		time.Sleep(time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.froms) != 1 || s.froms[0] != "after-the-big-batch" {
		t.Errorf("the room's past was read from %v, want from the batch without messages", s.froms)
	}
}
