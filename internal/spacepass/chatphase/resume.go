package chatphase

import (
	"encoding/json"
	"errors"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// resumeWithin is how long a room a cut-off pass found or converged is trusted
// by the passes that resume it.
const resumeWithin = time.Minute

// Checkpoints let a chat pass that a passing fault cut off resume where it
// stopped. A server that asks the operator to wait 20 s does not want the rooms
// it has just answered for read again; and when a share of all requests fails,
// a pass that must read every room again rarely gets through them all. A room
// found or converged less than resumeWithin ago, for the same desired state, is
// not read again, as long as the backend's stream of changes has run without a
// break and reported no change of that room since the pass that read it began
// (SyncStreams.Epoch, SyncStreams.ChangedSince). A pass that completes, or fails for good, forgets its
// checkpoint: the next periodic check reads everything. In memory only.
type Checkpoints struct {
	mu sync.Mutex
	at map[types.NamespacedName]*checkpoint
}

// checkpoint is what one pass left, by room alias, with the backend and the
// epoch of its stream when the pass began.
type checkpoint struct {
	backend string
	epoch   uint64
	rooms   map[string]checkpointRoom
}

type checkpointRoom struct {
	// desired is the room's desired state when it was read, as JSON.
	desired string
	room    *chat.ObservedRoom
	at      time.Time
}

// resume returns the checkpoint a pass on backend starting in epoch may use: the
// rooms the one left on the same backend holds, without those read longer than
// resumeWithin ago and, when the epoch moved on, without those that changed
// (changed: the room's id may have changed after the left checkpoint's epoch,
// SyncStreams.ChangedSince). A change in one room, or in another space's,
// discards nothing else.
func (c *Checkpoints) resume(space types.NamespacedName, backend string, epoch uint64, now time.Time,
	changed func(roomID string, since uint64) bool) *checkpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := &checkpoint{backend: backend, epoch: epoch, rooms: map[string]checkpointRoom{}}
	left := c.at[space]
	if left == nil || left.backend != backend || left.epoch > epoch {
		return next
	}
	for alias, r := range left.rooms {
		if now.Sub(r.at) >= resumeWithin || r.room == nil {
			continue
		}
		if left.epoch != epoch && changed(r.room.RoomID, left.epoch) {
			continue
		}
		next.rooms[alias] = r
	}
	return next
}

// keep stores what a cut-off pass leaves for the next one.
func (c *Checkpoints) keep(space types.NamespacedName, cp *checkpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == nil {
		c.at = map[types.NamespacedName]*checkpoint{}
	}
	c.at[space] = cp
}

// Forget drops a space's checkpoint.
func (c *Checkpoints) Forget(space types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.at, space)
}

// room returns the room read for spec, if the checkpoint holds it for the same
// desired state. A nil checkpoint holds nothing.
func (cp *checkpoint) room(spec chat.RoomSpec) *chat.ObservedRoom {
	if cp == nil {
		return nil
	}
	r, ok := cp.rooms[spec.CanonicalAlias]
	if key := desiredKey(spec); !ok || key == "" || r.desired != key {
		return nil
	}
	return r.room
}

// record notes that room was found, or converged, for spec at now.
func (cp *checkpoint) record(spec chat.RoomSpec, room *chat.ObservedRoom, now time.Time) {
	if cp != nil {
		cp.rooms[spec.CanonicalAlias] = checkpointRoom{desired: desiredKey(spec), room: room, at: now}
	}
}

// drop removes spec's room, once the pass has written to it.
func (cp *checkpoint) drop(spec chat.RoomSpec) {
	if cp != nil {
		delete(cp.rooms, spec.CanonicalAlias)
	}
}

// desiredKey is a room's desired state in comparable form: a changed spec, or a
// change of a Group's people, makes the room be read again.
func desiredKey(spec chat.RoomSpec) string {
	b, err := json.Marshal(spec)
	if err != nil {
		return "" // never equal to a recorded key, so the room is read
	}
	return string(b)
}

// resumeChat returns the checkpoint the pass resumes from and adds to (Checkpoints),
// or nil when the backend's stream of changes is not running.
func (r *Phase) resumeChat(s *scope.Scope, conn *connect.ChatConnection) *checkpoint {
	key := client.ObjectKeyFromObject(s.Space)
	if r.Streams == nil {
		r.Checkpoints.Forget(key)
		return nil
	}
	epoch, ok := r.Streams.Epoch(conn.Backend.Name)
	if !ok {
		r.Checkpoints.Forget(key)
		return nil
	}
	return r.Checkpoints.resume(key, conn.Backend.Name, epoch, s.Now, func(room string, since uint64) bool {
		return r.Streams.ChangedSince(conn.Backend.Name, since, room)
	})
}

// leaveCheckpoint keeps what a pass cut off by a passing fault found, for the
// next one; a pass that completed, or failed for good, leaves nothing, so the
// next periodic check reads every room.
func (r *Phase) leaveCheckpoint(p *chatPass, err error) {
	key := client.ObjectKeyFromObject(p.s.Space)
	if p.resume == nil || err == nil || errors.Is(err, reconcile.TerminalError(nil)) {
		r.Checkpoints.Forget(key)
		return
	}
	r.Checkpoints.keep(key, p.resume)
}
