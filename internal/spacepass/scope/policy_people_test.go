package scope

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestTheLowestPeopleLimitApplies: every policy that selects a namespace
// applies, so of two people limits the lower one bounds the space, whatever
// order the policies are listed in, and a policy without one bounds nothing.
func TestTheLowestPeopleLimitApplies(t *testing.T) {
	withLimit := func(name string, n *int32) *collabv1.CollaborationPolicy {
		p := &collabv1.CollaborationPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if n != nil {
			p.Spec.Limits = &collabv1.PolicyLimits{People: n}
		}
		return p
	}
	tests := map[string]struct {
		policies []*collabv1.CollaborationPolicy
		want     *PeopleLimit
	}{
		"no policy":                   {},
		"a policy without a limit":    {policies: []*collabv1.CollaborationPolicy{withLimit("open", nil)}},
		"the lower of two, first":     {policies: []*collabv1.CollaborationPolicy{withLimit("strict", ptr.To[int32](50)), withLimit("loose", ptr.To[int32](500))}, want: &PeopleLimit{Max: 50, Policy: "CollaborationPolicy strict"}},
		"the lower of two, second":    {policies: []*collabv1.CollaborationPolicy{withLimit("loose", ptr.To[int32](500)), withLimit("strict", ptr.To[int32](50))}, want: &PeopleLimit{Max: 50, Policy: "CollaborationPolicy strict"}},
		"zero lets nobody in":         {policies: []*collabv1.CollaborationPolicy{withLimit("closed", ptr.To[int32](0))}, want: &PeopleLimit{Max: 0, Policy: "CollaborationPolicy closed"}},
		"one without beside one with": {policies: []*collabv1.CollaborationPolicy{withLimit("open", nil), withLimit("strict", ptr.To[int32](7))}, want: &PeopleLimit{Max: 7, Policy: "CollaborationPolicy strict"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got *PeopleLimit
			for _, p := range tc.policies {
				got = got.Tighter(p)
			}
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Errorf("limit = %+v, want %+v", got, tc.want)
			}
		})
	}
}
