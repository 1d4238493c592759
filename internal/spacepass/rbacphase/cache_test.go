package rbacphase

import (
	stdcmp "cmp"
	"testing"

	"github.com/google/go-cmp/cmp"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// TestTrimForCache: the cache keeps what a pass reads (annotations of its
// own, owner references, the spec) and drops managed fields and kubectl
// apply's copy of the manifest; a Role's rules, a RoleBinding's subjects and
// their labels become a fingerprint, and of their metadata only name,
// namespace, resource version and owner references stay.
func TestTrimForCache(t *testing.T) {
	managed := []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	cases := map[string]struct {
		in   any
		want any
	}{
		"a role keeps its name, namespace, resource version and owners": {
			in: &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns", ManagedFields: managed, UID: "u",
				CreationTimestamp: metav1.Now(), ResourceVersion: "7", Finalizers: []string{"f"}, Generation: 2,
				OwnerReferences: []metav1.OwnerReference{{Kind: "CollaborationSpace", Name: "s", UID: "o"}},
				Labels:          map[string]string{collabv1.ManagedByLabel: collabv1.ManagedByValue},
				Annotations:     map[string]string{corev1.LastAppliedConfigAnnotation: "{...}", "theirs": "x"}},
				Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}}}},
			want: fingerprinted(&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns", ResourceVersion: "7",
				OwnerReferences: []metav1.OwnerReference{{Kind: "CollaborationSpace", Name: "s", UID: "o"}}}},
				fingerprintOf(&rbacv1.Role{Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}}}},
					ownLabels{ManagedBy: collabv1.ManagedByValue})),
		},
		"a role binding keeps the fingerprint of its role ref and subjects": {
			in: &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"},
				RoleRef:  rbacv1.RoleRef{Kind: "Role", Name: "r"},
				Subjects: []rbacv1.Subject{{Kind: "User", Name: "alice"}}},
			want: fingerprinted(&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}},
				fingerprintOf(&rbacv1.RoleBinding{RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "r"},
					Subjects: []rbacv1.Subject{{Kind: "User", Name: "alice"}}}, ownLabels{})),
		},
		"metadata only keeps its labels and annotations": {
			in: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "ns", ManagedFields: managed, UID: "u",
				CreationTimestamp: metav1.Now(), Labels: map[string]string{"tenant": "a"}, Annotations: map[string]string{"b": "c"}}},
			want: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "ns", Labels: map[string]string{"tenant": "a"},
				Annotations: map[string]string{"b": "c"}}},
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

// fingerprinted is obj as the cache keeps it, with fingerprint fp.
func fingerprinted(obj client.Object, fp string) client.Object {
	obj.SetSelfLink(fingerprintPrefix + fp)
	return obj
}

// TestFingerprint: a pass compares what the cache recorded with what the space
// wants by fingerprint; any change of subjects, rules or the operator's labels
// changes it, others' labels do not, and an object read from the API server
// (a plan) fingerprints the same as its cached copy.
func TestFingerprint(t *testing.T) {
	space := &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Name: "team", Namespace: "ns"}}
	sharded := space.DeepCopy()
	sharded.Labels = map[string]string{collabv1.ShardLabel: "b"}
	owned := func(s *collabv1.CollaborationSpace) map[string]string { return scope.OwnedLabels(nil, s) }
	viewer := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "collab-team-viewer"}
	binding := func(labels map[string]string, names ...string) *rbacv1.RoleBinding {
		b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns", Labels: labels}, RoleRef: viewer}
		for _, n := range names {
			b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: n})
		}
		return b
	}
	cached := func(b client.Object) client.Object {
		got, _ := TrimForCache(b.DeepCopyObject())
		return got.(client.Object)
	}
	// Someone who may edit the binding adds a subject and writes a selfLink
	// that claims the fingerprint of the declared subjects.
	forged := func(b client.Object) client.Object {
		b.SetSelfLink(fingerprintPrefix + desiredFingerprint(binding(nil, "alice", "bob"), space))
		return b
	}
	// live is an object as the API server sends it: with a UID.
	live := func(b *rbacv1.RoleBinding) *rbacv1.RoleBinding {
		b.UID = "uid-1"
		return b
	}
	role := func(verbs ...string) *rbacv1.Role {
		return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Labels: owned(space)},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: verbs}}}
	}
	boundTo := func(b *rbacv1.RoleBinding, role string) *rbacv1.RoleBinding {
		b.RoleRef.Name = role
		return b
	}
	withLabel := func(k, v string) map[string]string {
		l := owned(space)
		l[k] = v
		return l
	}
	cases := map[string]struct {
		have, want client.Object
		space      *collabv1.CollaborationSpace
		same       bool
	}{
		"the same subjects, cached":     {have: cached(binding(owned(space), "alice", "bob")), want: binding(nil, "alice", "bob"), same: true},
		"the same subjects, read live":  {have: binding(owned(space), "alice", "bob"), want: binding(nil, "alice", "bob"), same: true},
		"a label of someone else's":     {have: cached(binding(withLabel("team", "x"), "alice")), want: binding(nil, "alice"), same: true},
		"a subject added by hand":       {have: cached(binding(owned(space), "alice", "bob", "intruder")), want: binding(nil, "alice", "bob")},
		"a subject removed":             {have: cached(binding(owned(space), "alice")), want: binding(nil, "alice", "bob")},
		"the subjects in another order": {have: cached(binding(owned(space), "bob", "alice")), want: binding(nil, "alice", "bob")},
		"the space label changed":       {have: cached(binding(withLabel(collabv1.SpaceLabel, "other"), "alice")), want: binding(nil, "alice")},
		"the operator's label removed":  {have: cached(binding(nil, "alice")), want: binding(nil, "alice")},
		"moved to another shard":        {have: cached(binding(owned(space), "alice")), want: binding(nil, "alice"), space: sharded},
		"in the shard it moved to":      {have: cached(binding(owned(sharded), "alice")), want: binding(nil, "alice"), space: sharded, same: true},
		"bound to another role":         {have: cached(boundTo(binding(owned(space), "alice"), "collab-team-owner")), want: binding(nil, "alice")},
		"a verb added to a role":        {have: cached(role("get", "delete")), want: role("get")},
		"the same role":                 {have: cached(role("get")), want: role("get"), same: true},
		"a subject added with a forged fingerprint": {have: cached(forged(binding(owned(space), "alice", "bob", "intruder"))),
			want: binding(nil, "alice", "bob")},
		"read live with a forged fingerprint": {have: forged(live(binding(owned(space), "alice", "bob", "intruder"))),
			want: binding(nil, "alice", "bob")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := stdcmp.Or(tc.space, space)
			if got := currentFingerprint(tc.have) == desiredFingerprint(tc.want, s); got != tc.same {
				t.Errorf("fingerprints equal = %v, want %v", got, tc.same)
			}
		})
	}
}
