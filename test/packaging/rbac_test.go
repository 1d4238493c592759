package packaging

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// secretVerbs are all the manager may do with Secrets: get a backend's credentials
// and write, release or delete a deployed forum's admin Secret, each by name.
var secretVerbs = []string{"create", "delete", "get", "patch", "update"}

// TestManagerRoleIsLeastPrivilege reads the manager's ClusterRole (generated from
// the RBAC markers, copied into the chart by make helm-sync) and fails on anything a
// compromised or confused manager could use beyond its job: wildcards, the verbs that
// grant or assume others' rights, and reading Secrets in bulk. The role is bound
// cluster-wide, so list or watch on Secrets would be every Secret in the cluster.
func TestManagerRoleIsLeastPrivilege(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(data, &role); err != nil {
		t.Fatalf("config/rbac/role.yaml: %v", err)
	}
	if role.Kind != "ClusterRole" || len(role.Rules) == 0 {
		t.Fatalf("config/rbac/role.yaml holds %s %q with %d rules, want the manager's ClusterRole", role.Kind, role.Name, len(role.Rules))
	}
	if role.AggregationRule != nil {
		t.Errorf("the manager's role aggregates other roles: %+v", role.AggregationRule)
	}
	for i, rule := range role.Rules {
		for field, values := range map[string][]string{"apiGroups": rule.APIGroups, "resources": rule.Resources, "verbs": rule.Verbs} {
			if j := slices.IndexFunc(values, func(v string) bool { return strings.Contains(v, "*") }); j >= 0 {
				t.Errorf("rule grants %s %q: %+v", field, values[j], rule)
			}
		}
		for _, verb := range []string{"escalate", "bind", "impersonate"} {
			if slices.Contains(rule.Verbs, verb) {
				t.Errorf("rule %d grants %s: %+v", i, verb, rule)
			}
		}
		if len(rule.NonResourceURLs) > 0 {
			t.Errorf("rule %d grants non-resource URLs: %+v", i, rule)
		}
		if slices.Contains(rule.APIGroups, "") && slices.Contains(rule.Resources, "secrets") {
			for _, verb := range rule.Verbs {
				if !slices.Contains(secretVerbs, verb) {
					t.Errorf("rule %d grants %s on Secrets cluster-wide, want only %v: %+v", i, verb, secretVerbs, rule)
				}
			}
		}
	}
}
