package insightsread

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestInsightsPolicies: a policy turns the insights of the namespaces it
// selects off, and the report's minimum of people is the highest any policy
// sets.
func TestInsightsPolicies(t *testing.T) {
	policy := func(sel map[string]string, enabled *bool, minPeople *int32) collabv1.CollaborationPolicy {
		p := collabv1.CollaborationPolicy{Spec: collabv1.CollaborationPolicySpec{
			Insights: &collabv1.PolicyInsights{Enabled: enabled, MinPeople: minPeople}}}
		if sel != nil {
			p.Spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: sel}
		}
		return p
	}
	legal := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "legal", Labels: map[string]string{"insights": "off"}}}
	sales := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "sales"}}
	cases := map[string]struct {
		rules        insightsRules
		legal, sales bool // disabled
		minPeople    int
	}{
		"no policy":                 {},
		"a policy without insights": {rules: insightsRules{{}}},
		"off where labelled":        {rules: insightsRules{policy(map[string]string{"insights": "off"}, ptr.To(false), nil)}, legal: true},
		"off everywhere":            {rules: insightsRules{policy(nil, ptr.To(false), nil)}, legal: true, sales: true},
		"explicitly on":             {rules: insightsRules{policy(nil, ptr.To(true), nil)}},
		"the highest minimum wins": {rules: insightsRules{policy(nil, nil, ptr.To[int32](8)), policy(nil, nil, ptr.To[int32](6))},
			minPeople: 8},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.rules.disabledFor(legal); got != tc.legal {
				t.Errorf("legal disabled = %v, want %v", got, tc.legal)
			}
			if got := tc.rules.disabledFor(sales); got != tc.sales {
				t.Errorf("sales disabled = %v, want %v", got, tc.sales)
			}
			if got := tc.rules.minPeople(); got != tc.minPeople {
				t.Errorf("minPeople = %d, want %d", got, tc.minPeople)
			}
		})
	}
}
