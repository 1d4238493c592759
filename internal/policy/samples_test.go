package policy

import (
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// samplePolicy is the CollaborationPolicy a platform team starts from.
const samplePolicy = "../../config/samples/policy.yaml"

// TestTheSamplePolicyGivesEachNamespaceItsOwnForumHosts: under the sample
// policy, a department (namespace) can claim no forum host that the policy
// gives another department's space, whatever it names its own space. A host
// pattern without {{.Namespace}} lets a space in one namespace take the name of
// a space in another and, with it, that space's host.
func TestTheSamplePolicyGivesEachNamespaceItsOwnForumHosts(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(samplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	p := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &p.Object); err != nil {
		t.Fatal(err)
	}
	patterns, _, _ := unstructured.NestedStringSlice(p.Object, "spec", "ingress", "hostPatterns")
	if len(patterns) == 0 {
		t.Fatalf("%s gives no ingress.hostPatterns", samplePolicy)
	}
	selected, _, _ := unstructured.NestedStringMap(p.Object, "spec", "namespaceSelector", "matchLabels")
	namespace := func(name string) *corev1.Namespace {
		labels := map[string]string{"kubernetes.io/metadata.name": name}
		for k, v := range selected {
			labels[k] = v
		}
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	}
	hostViolations := func(ns, name, host string) []Violation {
		s := space(func(s *collabv1.CollaborationSpace) {
			s.Namespace, s.Name = ns, name
			s.Spec.Forum.Deploy.Ingress = &collabv1.ForumIngress{Host: host}
		})
		got := e.Evaluate(t.Context(), Input{Space: mustUnstructured(t, s, "CollaborationSpace"), Namespace: namespace(ns),
			Params: []*unstructured.Unstructured{p}, Operation: Create})
		var out []Violation
		for _, v := range got {
			if v.Field == "spec.forum.deploy.ingress.host" {
				out = append(out, v)
			}
		}
		return out
	}

	const finance, attacker, victim = "dept-finance", "dept-eng", "payroll"
	for _, pattern := range patterns {
		host := strings.NewReplacer("{{.Namespace}}", finance, "{{.Name}}", victim).Replace(pattern)
		if v := hostViolations(finance, victim, host); len(v) > 0 {
			t.Errorf("pattern %s: finance's own space %s may not have %s: %v", pattern, victim, host, v)
		}
		// The attacker may name its space anything: finance's space's name, or
		// finance's namespace.
		for _, name := range []string{victim, finance} {
			if v := hostViolations(attacker, name, host); len(v) == 0 {
				t.Errorf("pattern %s: space %s/%s was admitted with host %s, which the policy gives %s/%s",
					pattern, attacker, name, host, finance, victim)
			}
		}
	}
}
