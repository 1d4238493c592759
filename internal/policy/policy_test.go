package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	forumdeploy "github.com/opencommons/collab-operator/internal/forum/nodebb/deploy"
)

const ns = "dept-eng"

func mustUnstructured(t *testing.T, obj runtime.Object, kind string) *unstructured.Unstructured {
	t.Helper()
	u, err := Unstructured(obj, collabv1.GroupVersion.WithKind(kind))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// space is a space in ns with two rooms on company-matrix and a deployed forum.
func space(mutate ...func(*collabv1.CollaborationSpace)) *collabv1.CollaborationSpace {
	s := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "eng", Namespace: ns},
		Spec: collabv1.CollaborationSpaceSpec{
			Department:     "Engineering",
			Members:        []collabv1.Member{{Kind: collabv1.SubjectGroup, Name: "leads", Role: collabv1.RoleOwner}},
			DeletionPolicy: collabv1.DeletionPolicyArchive,
			Chat: &collabv1.ChatSpec{
				BackendRef: &collabv1.LocalObjectReference{Name: "company-matrix"},
				Rooms:      []collabv1.Room{{Name: "general"}, {Name: "random"}},
			},
			Forum: &collabv1.ForumSpec{
				Deploy:     &collabv1.ForumDeploy{Engine: collabv1.ForumEngineNodeBB},
				Categories: []collabv1.Category{{Name: "RFCs"}},
			},
		},
	}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func policy(name string, mutate ...func(*collabv1.CollaborationPolicySpec)) *collabv1.CollaborationPolicy {
	p := &collabv1.CollaborationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: collabv1.CollaborationPolicySpec{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "department"}},
		},
	}
	for _, m := range mutate {
		m(&p.Spec)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
		Labels: map[string]string{"tier": "department", "kubernetes.io/metadata.name": ns}}}

	type args struct {
		space    *collabv1.CollaborationSpace
		policies []*collabv1.CollaborationPolicy
		chat     []*collabv1.ChatBackend
		forums   []*collabv1.ForumBackend
		op       Operation
	}
	cases := map[string]struct {
		args args
		want []Violation
	}{
		"no policy": {
			args: args{space: space(func(s *collabv1.CollaborationSpace) { s.Spec.DeletionPolicy = collabv1.DeletionPolicyDelete })},
		},
		"a policy that does not select the namespace": {
			args: args{
				space: space(func(s *collabv1.CollaborationSpace) { s.Spec.DeletionPolicy = collabv1.DeletionPolicyDelete }),
				policies: []*collabv1.CollaborationPolicy{policy("others", func(p *collabv1.CollaborationPolicySpec) {
					p.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "lab"}}
				})},
			},
		},
		"a policy without a selector selects every namespace": {
			args: args{
				space: space(func(s *collabv1.CollaborationSpace) { s.Spec.DeletionPolicy = collabv1.DeletionPolicyDelete }),
				policies: []*collabv1.CollaborationPolicy{policy("everyone", func(p *collabv1.CollaborationPolicySpec) {
					p.NamespaceSelector = nil
				})},
			},
			want: []Violation{{Source: "CollaborationPolicy/everyone", Field: "spec.deletionPolicy",
				Message: "spec.deletionPolicy: Delete is not allowed by CollaborationPolicy everyone (spec.allowDeletionPolicyDelete is false); use Archive or Retain"}},
		},
		"a compliant space": {
			args: args{
				space: space(func(s *collabv1.CollaborationSpace) {
					s.Spec.Forum.Deploy.Image = "registry.example.org/nodebb:4.15.1"
					s.Spec.Forum.Deploy.Ingress = &collabv1.ForumIngress{Host: "dept-eng.forums.example.org", ClassName: ptr.To("nginx")}
					s.Spec.Forum.Deploy.Store = collabv1.ForumStore{Type: collabv1.ForumStoreExternal, SecretRef: &collabv1.LocalObjectReference{Name: "forum-db"}}
					s.Spec.Forum.Deploy.Storage.Size = resource.MustParse("10Gi")
				}),
				policies: []*collabv1.CollaborationPolicy{policy("departments", func(p *collabv1.CollaborationPolicySpec) {
					p.ChatBackends = []string{"company-matrix"}
					p.ForumImages = []string{"registry.example.org/nodebb:*"}
					p.Ingress = &collabv1.IngressPolicy{HostPatterns: []string{"{{.Namespace}}.forums.example.org"}, ClassNames: []string{"nginx"}}
					p.StoreSecrets = []string{"forum-db"}
					p.Limits = &collabv1.PolicyLimits{Rooms: ptr.To[int32](2), Categories: ptr.To[int32](1), Storage: ptr.To(resource.MustParse("10Gi"))}
				})},
			},
		},
		"every rule broken": {
			args: args{
				space: space(func(s *collabv1.CollaborationSpace) {
					s.Spec.DeletionPolicy = collabv1.DeletionPolicyDelete
					s.Spec.Forum.Deploy.Image = "evil.example.org/miner:latest"
					s.Spec.Forum.Deploy.Ingress = &collabv1.ForumIngress{Host: "payroll.example.org", ClassName: ptr.To("public")}
					s.Spec.Forum.Deploy.Store = collabv1.ForumStore{Type: collabv1.ForumStoreExternal, SecretRef: &collabv1.LocalObjectReference{Name: "payroll-db"}}
					s.Spec.Forum.Deploy.Storage.Size = resource.MustParse("1Ti")
				}),
				policies: []*collabv1.CollaborationPolicy{policy("departments", func(p *collabv1.CollaborationPolicySpec) {
					p.ChatBackends = []string{"dept-matrix", "other-matrix"}
					p.Ingress = &collabv1.IngressPolicy{HostPatterns: []string{"{{.Namespace}}.forums.example.org", "{{.Name}}.example.org"}, ClassNames: []string{"nginx"}}
					p.Limits = &collabv1.PolicyLimits{Rooms: ptr.To[int32](1), Categories: ptr.To[int32](0), Storage: ptr.To(resource.MustParse("20Gi"))}
				})},
			},
			want: []Violation{
				{Field: "spec.chat.backendRef", Message: "spec.chat.backendRef: ChatBackend company-matrix is not allowed by CollaborationPolicy departments (spec.chatBackends: dept-matrix, other-matrix)"},
				{Field: "spec.forum.deploy.image", Message: "spec.forum.deploy.image: image evil.example.org/miner:latest is not allowed by CollaborationPolicy departments (spec.forumImages is empty); leave image unset to run the operator's pinned image"},
				{Field: "spec.forum.deploy.ingress.host", Message: "spec.forum.deploy.ingress.host: host payroll.example.org is not allowed by CollaborationPolicy departments (spec.ingress.hostPatterns: {{.Namespace}}.forums.example.org, {{.Name}}.example.org)"},
				{Field: "spec.forum.deploy.ingress.className", Message: "spec.forum.deploy.ingress.className: ingress class public is not allowed by CollaborationPolicy departments (spec.ingress.classNames: nginx)"},
				{Field: "spec.forum.deploy.store.secretRef", Message: "spec.forum.deploy.store.secretRef: Secret payroll-db may not be handed to the forum by CollaborationPolicy departments (spec.storeSecrets is empty)"},
				{Field: "spec.deletionPolicy", Message: "spec.deletionPolicy: Delete is not allowed by CollaborationPolicy departments (spec.allowDeletionPolicyDelete is false); use Archive or Retain"},
				{Field: "spec.chat.rooms", Message: "spec.chat.rooms: 2 rooms, more than the 1 CollaborationPolicy departments allows (spec.limits.rooms)"},
				{Field: "spec.forum.categories", Message: "spec.forum.categories: 1 categories, more than the 0 CollaborationPolicy departments allows (spec.limits.categories)"},
				{Field: "spec.forum.deploy.storage.size", Message: "spec.forum.deploy.storage.size: 1Ti is more than the 20Gi CollaborationPolicy departments allows (spec.limits.storage)"},
			},
		},
		"groups per space are limited; users are not groups": {
			args: args{
				space: space(func(s *collabv1.CollaborationSpace) {
					s.Spec.Members = append(s.Spec.Members,
						collabv1.Member{Kind: collabv1.SubjectGroup, Name: "all-staff", Role: collabv1.RoleMember},
						collabv1.Member{Kind: collabv1.SubjectGroup, Name: "contractors", Role: collabv1.RoleMember},
						collabv1.Member{Kind: collabv1.SubjectUser, Name: "alice", Role: collabv1.RoleOwner})
				}),
				policies: []*collabv1.CollaborationPolicy{policy("departments", func(p *collabv1.CollaborationPolicySpec) {
					p.Limits = &collabv1.PolicyLimits{Groups: ptr.To[int32](2), People: ptr.To[int32](500)}
				})},
			},
			want: []Violation{{Field: "spec.members",
				Message: "spec.members: 3 Group members, more than the 2 CollaborationPolicy departments allows (spec.limits.groups)"}},
		},
		"the default volume counts against the storage limit": {
			args: args{
				space: space(),
				policies: []*collabv1.CollaborationPolicy{policy("small", func(p *collabv1.CollaborationPolicySpec) {
					p.Limits = &collabv1.PolicyLimits{Storage: ptr.To(resource.MustParse("1Gi"))}
				})},
			},
			want: []Violation{{Field: "spec.forum.deploy.storage.size",
				Message: "spec.forum.deploy.storage.size: " + forumdeploy.DefaultStorage + " is more than the 1Gi CollaborationPolicy small allows (spec.limits.storage)"}},
		},
		"every policy that selects the namespace applies": {
			args: args{
				space: space(func(s *collabv1.CollaborationSpace) {
					s.Spec.Forum = &collabv1.ForumSpec{BackendRef: &collabv1.LocalObjectReference{Name: "shared"}}
				}),
				policies: []*collabv1.CollaborationPolicy{
					policy("a", func(p *collabv1.CollaborationPolicySpec) { p.ForumBackends = []string{"dept-forum"} }),
					policy("b", func(p *collabv1.CollaborationPolicySpec) {
						p.NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
							{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"department", "lab"}},
							{Key: "legacy", Operator: metav1.LabelSelectorOpDoesNotExist},
							{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"kube-system"}},
							{Key: "tier", Operator: metav1.LabelSelectorOpExists},
						}}
						p.Limits = &collabv1.PolicyLimits{Rooms: ptr.To[int32](1)}
					}),
				},
			},
			want: []Violation{
				{Source: "CollaborationPolicy/a", Field: "spec.forum.backendRef", Message: "spec.forum.backendRef: ForumBackend shared is not allowed by CollaborationPolicy a (spec.forumBackends: dept-forum)"},
				{Source: "CollaborationPolicy/b", Field: "spec.chat.rooms", Message: "spec.chat.rooms: 2 rooms, more than the 1 CollaborationPolicy b allows (spec.limits.rooms)"},
			},
		},
		"a matchExpression that fails deselects": {
			args: args{
				space: space(func(s *collabv1.CollaborationSpace) { s.Spec.DeletionPolicy = collabv1.DeletionPolicyDelete }),
				policies: []*collabv1.CollaborationPolicy{policy("not-here", func(p *collabv1.CollaborationPolicySpec) {
					p.NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
						{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"department"}}}}
				})},
			},
		},
		"Delete allowed": {
			args: args{
				space: space(func(s *collabv1.CollaborationSpace) { s.Spec.DeletionPolicy = collabv1.DeletionPolicyDelete }),
				policies: []*collabv1.CollaborationPolicy{policy("purge", func(p *collabv1.CollaborationPolicySpec) {
					p.AllowDeletionPolicyDelete = true
				})},
			},
		},
		"any Secret": {
			args: args{
				space: space(func(s *collabv1.CollaborationSpace) {
					s.Spec.Forum.Deploy.Store = collabv1.ForumStore{Type: collabv1.ForumStoreExternal, SecretRef: &collabv1.LocalObjectReference{Name: "db"}}
				}),
				policies: []*collabv1.CollaborationPolicy{policy("stores", func(p *collabv1.CollaborationPolicySpec) {
					p.StoreSecrets = []string{"*"}
				})},
			},
		},
		"a backend reserved for other namespaces": {
			args: args{
				space: space(),
				chat: []*collabv1.ChatBackend{
					{ObjectMeta: metav1.ObjectMeta{Name: "company-matrix"}, Spec: collabv1.ChatBackendSpec{
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "executive"}}}},
					{ObjectMeta: metav1.ObjectMeta{Name: "open-matrix"}},
				},
				forums: []*collabv1.ForumBackend{{ObjectMeta: metav1.ObjectMeta{Name: "board-forum"}, Spec: collabv1.ForumBackendSpec{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "executive"}}}}},
			},
			want: []Violation{{Source: "ChatBackend/company-matrix", Field: "spec.chat.backendRef",
				Message: "spec.chat.backendRef: ChatBackend company-matrix is reserved for other namespaces: its spec.namespaceSelector does not select namespace dept-eng"}},
		},
		"a backend reserved for this namespace": {
			args: args{
				space: space(),
				chat: []*collabv1.ChatBackend{{ObjectMeta: metav1.ObjectMeta{Name: "company-matrix"}, Spec: collabv1.ChatBackendSpec{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "department"}}}}},
			},
		},
		"a new space on a backend being deleted": {
			args: args{
				space: space(),
				op:    Create,
				chat: []*collabv1.ChatBackend{{ObjectMeta: metav1.ObjectMeta{Name: "company-matrix",
					DeletionTimestamp: ptr.To(metav1.Now()), Finalizers: []string{"x"}}}},
			},
			want: []Violation{{Source: "ChatBackend/company-matrix", Field: "spec.chat.backendRef",
				Message: "spec.chat.backendRef: ChatBackend company-matrix is being deleted"}},
		},
		"a stored space on a backend being deleted": {
			args: args{
				space: space(),
				chat: []*collabv1.ChatBackend{{ObjectMeta: metav1.ObjectMeta{Name: "company-matrix",
					DeletionTimestamp: ptr.To(metav1.Now()), Finalizers: []string{"x"}}}},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := Input{Space: mustUnstructured(t, tc.args.space, "CollaborationSpace"), Namespace: namespace, Operation: tc.args.op}
			for _, p := range tc.args.policies {
				in.Params = append(in.Params, mustUnstructured(t, p, "CollaborationPolicy"))
			}
			for _, b := range tc.args.chat {
				in.Params = append(in.Params, mustUnstructured(t, b, "ChatBackend"))
			}
			for _, b := range tc.args.forums {
				in.Params = append(in.Params, mustUnstructured(t, b, "ForumBackend"))
			}
			got := e.Evaluate(t.Context(), in)
			want := tc.want
			for i := range want {
				if want[i].Source == "" && len(tc.args.policies) > 0 {
					want[i].Source = "CollaborationPolicy/" + tc.args.policies[0].Name
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFieldOf(t *testing.T) {
	for msg, want := range map[string]string{
		"spec.chat.rooms: 3 rooms, more than":   "spec.chat.rooms",
		"CollaborationPolicy x cannot be: y":    "",
		"no field at all":                       "",
		"spec.deletionPolicy: Delete is not: a": "spec.deletionPolicy",
	} {
		if got := fieldOf(msg); got != want {
			t.Errorf("fieldOf(%q) = %q, want %q", msg, got, want)
		}
	}
}

// TestNewRefusesBrokenPolicies guards New's promise that a policy which would not
// compile is found at start, not at the first space.
func TestNewRefusesBrokenPolicies(t *testing.T) {
	for name, doc := range map[string]string{
		"variable":   "variables: [{name: v, expression: \"sign('x')\"}]\n  validations: [{expression: 'true'}]",
		"validation": "validations: [{expression: 'object.spec.nope('}]",
		"message":    "validations: [{expression: 'true', messageExpression: '1 + \"a\"'}]",
	} {
		t.Run(name, func(t *testing.T) {
			policies, err := DecodePolicies([]byte(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: broken}
spec:
  paramKind: {apiVersion: collab.opencommons.io/v1alpha1, kind: CollaborationPolicy}
  ` + doc + "\n"))
			if err != nil || len(policies) != 1 {
				t.Fatalf("decode: %v, %d policies", err, len(policies))
			}
			if _, err := NewFromPolicies(policies); err == nil {
				t.Error("compiled a broken policy")
			} else {
				t.Log(err)
			}
		})
	}
}

// TestEvaluationErrorsFailClosed: a policy the CEL cannot evaluate (here a param
// with a value of the wrong type, which its CRD would refuse) is a violation for
// the operator, although the admission policies admit it (failurePolicy Ignore).
func TestEvaluationErrorsFailClosed(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	broken := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "collab.opencommons.io/v1alpha1", "kind": "CollaborationPolicy",
		"metadata": map[string]any{"name": "broken"},
		"spec":     map[string]any{"limits": map[string]any{"rooms": "three"}},
	}}
	got := e.Evaluate(t.Context(), Input{
		Space:     mustUnstructured(t, space(), "CollaborationSpace"),
		Namespace: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		Params:    []*unstructured.Unstructured{broken},
	})
	if len(got) != 1 || got[0].Field != "" || got[0].Source != "CollaborationPolicy/broken" ||
		!strings.Contains(got[0].Message, "cannot be evaluated") {
		t.Errorf("violations %+v, want one saying CollaborationPolicy/broken cannot be evaluated", got)
	}
}
