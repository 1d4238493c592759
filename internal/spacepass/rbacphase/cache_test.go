package rbacphase

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestTrimForCache: the cache keeps what a pass reads (labels, annotations of
// its own, owner references, the spec) and drops managed fields and kubectl
// apply's copy of the manifest; a Role's rules and a RoleBinding's subjects
// become a hash of them.
func TestTrimForCache(t *testing.T) {
	managed := []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	cases := map[string]struct {
		in   any
		want any
	}{
		"a role loses managed fields and last-applied, keeps the rest": {
			in: &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", ManagedFields: managed,
				Labels:      map[string]string{collabv1.ManagedByLabel: collabv1.ManagedByValue},
				Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{...}", "keep": "me"}},
				Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}}}},
			want: &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r",
				Labels: map[string]string{collabv1.ManagedByLabel: collabv1.ManagedByValue,
					cachedContentLabel: hashOf([]rbacv1.PolicyRule{{Verbs: []string{"get"}}})},
				Annotations: map[string]string{"keep": "me"}}},
		},
		"a role binding keeps its role ref and the hash of its subjects": {
			in: &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"},
				RoleRef:  rbacv1.RoleRef{Kind: "Role", Name: "r"},
				Subjects: []rbacv1.Subject{{Kind: "User", Name: "alice"}}},
			want: &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b",
				Labels: map[string]string{cachedContentLabel: hashOf([]rbacv1.Subject{{Kind: "User", Name: "alice"}})}},
				RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "r"}},
		},
		"metadata only keeps its labels": {
			in: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "ns", ManagedFields: managed,
				Labels: map[string]string{"tenant": "a"}}},
			want: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "ns", Labels: map[string]string{"tenant": "a"}}},
		},
		"a tombstone is left alone": {
			in:   toolscache.DeletedFinalStateUnknown{Key: "ns/r"},
			want: toolscache.DeletedFinalStateUnknown{Key: "ns/r"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := TrimForCache(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("TrimForCache (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRBACContentHash: a pass compares what the cache recorded with what it
// wants by hash; any change of subjects or rules changes it, and an object read
// from the API server (a plan) hashes the same as its cached copy.
func TestRBACContentHash(t *testing.T) {
	binding := func(names ...string) *rbacv1.RoleBinding {
		b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"}}
		for _, n := range names {
			b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: n})
		}
		return b
	}
	cached := func(b *rbacv1.RoleBinding) *rbacv1.RoleBinding {
		got, _ := TrimForCache(b.DeepCopy())
		return got.(*rbacv1.RoleBinding)
	}
	forged := func(b, claims *rbacv1.RoleBinding) *rbacv1.RoleBinding {
		b.Labels = map[string]string{cachedContentLabel: hashOf(claims.Subjects)}
		return b
	}
	role := func(verbs ...string) *rbacv1.Role {
		return &rbacv1.Role{Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: verbs}}}
	}
	cases := map[string]struct {
		have, want client.Object
		same       bool
	}{
		"the same subjects, cached":          {have: cached(binding("alice", "bob")), want: binding("alice", "bob"), same: true},
		"the same subjects, read live":       {have: binding("alice", "bob"), want: binding("alice", "bob"), same: true},
		"a subject added by hand":            {have: cached(binding("alice", "bob", "intruder")), want: binding("alice", "bob")},
		"a subject removed":                  {have: cached(binding("alice")), want: binding("alice", "bob")},
		"the same subjects in another order": {have: cached(binding("bob", "alice")), want: binding("alice", "bob")},
		"a verb added to a role by hand":     {have: role("get", "delete"), want: role("get")},
		// Someone who may edit the binding adds a subject and sets the label the
		// cache keeps its hash in to the hash of the declared subjects.
		"a subject added with a forged hash label": {have: cached(forged(binding("alice", "bob", "intruder"), binding("alice", "bob"))),
			want: binding("alice", "bob")},
		"the same role": {have: role("get"), want: role("get"), same: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := rbacContentHash(tc.have) == rbacContentHash(tc.want); got != tc.same {
				t.Errorf("hashes equal = %v, want %v", got, tc.same)
			}
		})
	}
}
