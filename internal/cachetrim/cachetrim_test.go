package cachetrim

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestTrim: what a pass reads stays as it was; what it does not read goes.
func TestTrim(t *testing.T) {
	managed := []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	owner := metav1.OwnerReference{APIVersion: "collab.opencommons.io/v1alpha1", Kind: "CollaborationSpace",
		Name: "team", UID: "u", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}
	cases := map[string]struct {
		in, want any
	}{
		"a space loses managed fields and last-applied, keeps spec and status": {
			in: &collabv1.CollaborationSpace{
				ObjectMeta: metav1.ObjectMeta{Name: "team", UID: "s", ManagedFields: managed,
					Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{}", "keep": "me"},
					Finalizers:  []string{"collab.opencommons.io/finalizer"}},
				Spec: collabv1.CollaborationSpaceSpec{Department: "Team",
					Members: append(make([]collabv1.Member, 0, 8), collabv1.Member{Kind: "User", Name: "ada", Role: "Owner"})},
				Status: collabv1.CollaborationSpaceStatus{Conditions: []metav1.Condition{{Type: "Ready", Status: "True",
					Reason: "Succeeded", Message: "Space is ready"}}},
			},
			want: &collabv1.CollaborationSpace{
				ObjectMeta: metav1.ObjectMeta{Name: "team", UID: "s", Annotations: map[string]string{"keep": "me"},
					Finalizers: []string{"collab.opencommons.io/finalizer"}},
				Spec: collabv1.CollaborationSpaceSpec{Department: "Team",
					Members: []collabv1.Member{{Kind: "User", Name: "ada", Role: "Owner"}}},
				Status: collabv1.CollaborationSpaceStatus{Conditions: []metav1.Condition{{Type: "Ready", Status: "True",
					Reason: "Succeeded", Message: "Space is ready"}}},
			},
		},
		"metadata only loses its UID and creation time, keeps labels and annotations": {
			in: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "ns", UID: "u", ManagedFields: managed,
				CreationTimestamp: metav1.Now(), ResourceVersion: "3",
				Labels: map[string]string{"tenant": "a"}, Annotations: map[string]string{"b": "c"}}},
			want: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "ns", ResourceVersion: "3",
				Labels: map[string]string{"tenant": "a"}, Annotations: map[string]string{"b": "c"}}},
		},
		"owner references keep every field": {
			in:   &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "forum", OwnerReferences: []metav1.OwnerReference{owner}}},
			want: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "forum", OwnerReferences: []metav1.OwnerReference{owner}}},
		},
		"a tombstone is left alone": {
			in:   toolscache.DeletedFinalStateUnknown{Key: "ns/r"},
			want: toolscache.DeletedFinalStateUnknown{Key: "ns/r"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			Trim(tc.in)
			if diff := cmp.Diff(tc.want, tc.in); diff != "" {
				t.Errorf("Trim (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTrimShares: two spaces decoded apart hold one copy of the values their
// members and conditions repeat, and their member lists no spare room.
func TestTrimShares(t *testing.T) {
	space := func() *collabv1.CollaborationSpace {
		s := &collabv1.CollaborationSpace{}
		s.Spec.Members = make([]collabv1.Member, 1, 4)
		s.Spec.Members[0] = collabv1.Member{Kind: collabv1.SubjectKind(fmt.Sprint("Us", "er")),
			Role: collabv1.Role(fmt.Sprint("Mem", "ber"))}
		s.Status.Conditions = []metav1.Condition{{Type: fmt.Sprint("Re", "ady"), Reason: fmt.Sprint("Succ", "eeded")}}
		s.Status.Members = &collabv1.MembersStatus{Members: append(make([]string, 0, 4), fmt.Sprint("@ada", ":example.org"))}
		return s
	}
	a, b := space(), space()
	Trim(a)
	Trim(b)
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	if !same(string(a.Spec.Members[0].Kind), string(b.Spec.Members[0].Kind)) ||
		!same(string(a.Spec.Members[0].Role), string(b.Spec.Members[0].Role)) ||
		!same(a.Status.Conditions[0].Type, b.Status.Conditions[0].Type) ||
		!same(a.Status.Conditions[0].Reason, b.Status.Conditions[0].Reason) ||
		!same(a.Status.Members.Members[0], b.Status.Members.Members[0]) {
		t.Error("the two spaces hold copies of their own")
	}
	if cap(a.Spec.Members) != 1 || cap(a.Status.Members.Members) != 1 {
		t.Errorf("the member lists have room for %d and %d, hold 1", cap(a.Spec.Members), cap(a.Status.Members.Members))
	}
}

// TestInternIsBounded: values past the bound, or long ones, are not kept.
func TestInternIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		table *table
		share func(string) string
	}{{"enumerations", enumerations, intern}, {"people", people, internPerson}} {
		for i := range tc.table.max + 100 {
			tc.share(fmt.Sprintf("value-%d", i))
		}
		long := string(make([]byte, tc.table.maxLen+1))
		if n := tc.table.len(); n > tc.table.max {
			t.Errorf("%s: %d strings kept, at most %d", tc.name, n, tc.table.max)
		}
		if got := tc.share(long); unsafe.StringData(got) != unsafe.StringData(long) {
			t.Errorf("%s: a long value was replaced", tc.name)
		}
	}
}

func ptr[T any](v T) *T { return &v }
