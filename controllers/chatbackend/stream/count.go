package stream

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/livecount"
)

// counting returns the stream's syncer, with a Counter of the backend's
// messages when the streams count them and the client can carry them; called
// with mu held.
func (s *Streams) counting(backend string, c chat.Client, syncer chat.Syncer) batchSource {
	delete(s.counters, backend)
	ms, carries := c.(chat.MessageSyncer)
	reader, reads := c.(chat.HistoryReader)
	if !s.CountMessages || !carries || !reads {
		return batchSource{Syncer: syncer}
	}
	counter := &livecount.Counter{Backend: backend, Reader: reader, MaxPages: s.CountPages}
	if s.counters == nil {
		s.counters = map[string]*livecount.Counter{}
	}
	s.counters[backend] = counter
	return batchSource{Syncer: syncer, messages: ms, counter: counter}
}

// Counter is the live count of the backend's messages, nil unless its stream
// runs and counts them.
func (s *Streams) Counter(backend string) *livecount.Counter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters[backend]
}

// batchSource is where a stream's batches come from, and the Counter they are
// counted by when they carry messages.
type batchSource struct {
	chat.Syncer
	messages chat.MessageSyncer
	counter  *livecount.Counter
}

// next is the batch after since. The first batch of a counting stream begins
// the counts at its position (everything before it is the rooms' past); the
// others are counted.
func (b batchSource) next(ctx context.Context, since string) (chat.SyncBatch, error) {
	if b.counter == nil {
		return b.Sync(ctx, since, syncTimeout)
	}
	if since == "" {
		batch, err := b.Sync(ctx, since, syncTimeout)
		if err == nil {
			b.counter.Begin(ctx, batch.Next)
		}
		return batch, err
	}
	batch, err := b.messages.SyncWithMessages(ctx, since, syncTimeout)
	if err == nil {
		b.counter.Add(ctx, batch)
		return batch, nil
	}
	if ctx.Err() != nil {
		return batch, err
	}
	// The same position without the messages: when that answers, the failure
	// was the messages' (a batch after a long break may pass the client's
	// 32 MiB bound on an answer). The stream goes on, and the counts begin
	// afresh after it, reading the rooms' past back from there: nothing is
	// lost or counted twice, at the cost of one read of each room.
	plain, plainErr := b.Sync(ctx, since, 0)
	if plainErr != nil {
		return plain, plainErr
	}
	ctrl.Log.WithName("insights").Info("The stream could not carry the rooms' messages; counting them afresh from here",
		"error", err.Error())
	b.counter.Begin(ctx, plain.Next)
	return plain, nil
}
