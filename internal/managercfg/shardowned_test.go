package managercfg

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestOwnedObjectsFollowTheirSpacesShard: with a selector on the shard label, a
// shard caches only the Roles (and the other owned objects) of its own spaces,
// which carry their space's shard label; any other selector leaves every
// shard caching every owned object, as owned objects carry no other label.
func TestOwnedObjectsFollowTheirSpacesShard(t *testing.T) {
	owned := func(shard string) labels.Set {
		l := labels.Set{collabv1.ManagedByLabel: collabv1.ManagedByValue, collabv1.SpaceLabel: "dept"}
		if shard != "" {
			l[collabv1.ShardLabel] = shard
		}
		return l
	}
	cases := map[string]struct {
		selector string
		want     map[string]bool // owned object of shard ("" for none) -> cached
	}{
		"shard a":            {selector: collabv1.ShardLabel + "=a", want: map[string]bool{"a": true, "b": false, "": false}},
		"the main manager":   {selector: "!" + collabv1.ShardLabel, want: map[string]bool{"a": false, "b": false, "": true}},
		"another label":      {selector: "team=x", want: map[string]bool{"a": true, "b": true, "": true}},
		"shard and another":  {selector: collabv1.ShardLabel + "=a,team=x", want: map[string]bool{"a": true, "b": true, "": true}},
		"no selector at all": {selector: "", want: map[string]bool{"a": true, "b": true, "": true}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sel, err := ParseShardSelector(tc.selector)
			if err != nil {
				t.Fatal(err)
			}
			opts := ShardCacheOptions(ManagerOptions(ctrl.Options{}), sel)
			var roles labels.Selector
			for obj, by := range opts.Cache.ByObject {
				if _, ok := obj.(*rbacv1.Role); ok {
					roles = by.Label
				}
			}
			got := map[string]bool{}
			for shard := range tc.want {
				got[shard] = roles.Matches(owned(shard))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Roles cached, by their shard label (-want +got):\n%s", diff)
			}
		})
	}
}
