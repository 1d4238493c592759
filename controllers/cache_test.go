package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

// TestTrimForCache: the cache keeps what a pass reads (labels, annotations of
// its own, owner references, the spec) and drops managed fields and kubectl
// apply's copy of the manifest.
func TestTrimForCache(t *testing.T) {
	managed := []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	cases := map[string]struct {
		in   any
		want any
	}{
		"a role loses managed fields and last-applied, keeps the rest": {
			in: &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", ManagedFields: managed,
				Labels:      map[string]string{ManagedByLabel: ManagedByValue},
				Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{...}", "keep": "me"}},
				Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}}}},
			want: &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r",
				Labels:      map[string]string{ManagedByLabel: ManagedByValue},
				Annotations: map[string]string{"keep": "me"}},
				Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}}}},
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
