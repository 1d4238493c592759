package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestPerSpaceSeries: a gauge at zero has no series, and a space that is gone
// leaves none of its own, while another space's stay.
func TestPerSpaceSeries(t *testing.T) {
	SetOrDelete(SpacePeople, 3, "eng", "team")
	SetOrDelete(SpacePeople, 0, "eng", "other")
	SetOrDelete(RemovalsHeld, 2, "eng", "team")
	SetOrDelete(RemovalsHeld, 0, "eng", "team")
	ManagedRooms.WithLabelValues("eng", "team").Set(4)
	SetOrDelete(SpacePeople, 1, "ops", "team")
	if n := testutil.CollectAndCount(SpacePeople); n != 2 {
		t.Errorf("collab_space_people has %d series, want 2 (a count of 0 has none)", n)
	}
	if n := testutil.CollectAndCount(RemovalsHeld); n != 0 {
		t.Errorf("collab_removals_held has %d series after it went back to 0, want none", n)
	}
	ForgetSpace("eng", "team")
	for name, n := range map[string]int{
		"collab_space_people":  testutil.CollectAndCount(SpacePeople),
		"collab_managed_rooms": testutil.CollectAndCount(ManagedRooms),
	} {
		want := 0
		if name == "collab_space_people" {
			want = 1 // ops/team's
		}
		if n != want {
			t.Errorf("%s has %d series after eng/team is gone, want %d", name, n, want)
		}
	}
}
