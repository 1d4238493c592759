package chatphase

import (
	"slices"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opencommons/collab-operator/internal/chat"
)

// TestCheckpointsResume: a checkpoint serves only the pass on the same backend,
// only rooms read less than resumeWithin ago, and, once the backend's stream has
// moved on, only rooms it reported no change of and only while it did not break:
// a change in another room discards nothing else.
func TestCheckpointsResume(t *testing.T) {
	space := client.ObjectKey{Namespace: "ns", Name: "eng"}
	spec := chat.RoomSpec{CanonicalAlias: "#ns.eng.general:x", Name: "general"}
	read := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		backend string
		epoch   uint64
		changed []string // rooms changed after epoch 7; "*" for a break
		now     time.Time
		held    bool
	}{
		"same backend and epoch, read 30s ago": {backend: "chat", epoch: 7, now: read.Add(30 * time.Second), held: true},
		"another epoch: the stream saw this room change": {backend: "chat", epoch: 8, changed: []string{"!general:x"},
			now: read.Add(30 * time.Second)},
		"another epoch: the stream saw only another room change": {backend: "chat", epoch: 8, changed: []string{"!other:x"},
			now: read.Add(30 * time.Second), held: true},
		"another epoch: the stream broke":     {backend: "chat", epoch: 8, changed: []string{"*"}, now: read.Add(30 * time.Second)},
		"another backend with the same epoch": {backend: "other", epoch: 7, now: read.Add(30 * time.Second)},
		"read longer ago than resumeWithin":   {backend: "chat", epoch: 7, now: read.Add(resumeWithin)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			changed := func(room string, since uint64) bool {
				if since != 7 {
					t.Errorf("asked for changes since epoch %d, want 7 (the left checkpoint's)", since)
				}
				return slices.Contains(tc.changed, "*") || slices.Contains(tc.changed, room)
			}
			var c Checkpoints
			left := c.resume(space, "chat", 7, read, changed)
			left.record(spec, &chat.ObservedRoom{RoomID: "!general:x"}, read)
			c.keep(space, left)
			got := c.resume(space, tc.backend, tc.epoch, tc.now, changed).room(spec)
			if (got != nil) != tc.held {
				t.Errorf("room = %v, want held: %v", got, tc.held)
			}
		})
	}
}
