package scope

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestOwnedObjectsCarryTheSpacesShard: an owned object takes its space's shard
// label, and loses it when the space moves to the main manager.
func TestOwnedObjectsCarryTheSpacesShard(t *testing.T) {
	space := func(shardLabels map[string]string) *collabv1.CollaborationSpace {
		return &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Name: "dept", Labels: shardLabels}}
	}
	cases := map[string]struct {
		space *collabv1.CollaborationSpace
		have  map[string]string
		want  map[string]string
	}{
		"a new object of a sharded space": {space: space(map[string]string{collabv1.ShardLabel: "a"}),
			want: map[string]string{collabv1.ManagedByLabel: collabv1.ManagedByValue, collabv1.SpaceLabel: "dept", collabv1.ShardLabel: "a"}},
		"moved to another shard": {space: space(map[string]string{collabv1.ShardLabel: "b"}), have: map[string]string{collabv1.ShardLabel: "a", "keep": "me"},
			want: map[string]string{collabv1.ManagedByLabel: collabv1.ManagedByValue, collabv1.SpaceLabel: "dept", collabv1.ShardLabel: "b", "keep": "me"}},
		"moved to the main manager": {space: space(nil), have: map[string]string{collabv1.ShardLabel: "a"},
			want: map[string]string{collabv1.ManagedByLabel: collabv1.ManagedByValue, collabv1.SpaceLabel: "dept"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, OwnedLabels(tc.have, tc.space)); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
		})
	}
}
