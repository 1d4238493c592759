package isolation

import (
	"context"
	"fmt"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

// TestOwnerRBAC: what the operator grants a space's Owner in Kubernetes lets her
// change her own space and nothing that would let her reach another tenant: not
// the victim's space, not her own status (where room ids are authoritative), not
// the backends, not the credentials.
func TestOwnerRBAC(t *testing.T) {
	victim := tenantSpace("tenant-rbac-victim", "finance", "Finance", "vera", "walt")
	victim.Spec.Chat = nil
	attacker := tenantSpace("tenant-rbac-attacker", "finance", "Finance", "mallory", "max")
	attacker.Spec.Chat = nil
	create(t, victim)
	create(t, attacker)
	waitReady(t, victim)
	waitReady(t, attacker)

	group := collabv1.GroupVersion.Group
	cases := map[string]struct {
		attrs authzv1.ResourceAttributes
		want  bool
	}{
		"update her own space (the control)": {authzv1.ResourceAttributes{Namespace: attacker.Namespace,
			Verb: "update", Group: group, Resource: "collaborationspaces", Name: "finance"}, true},
		"update the victim's space": {authzv1.ResourceAttributes{Namespace: victim.Namespace,
			Verb: "update", Group: group, Resource: "collaborationspaces", Name: "finance"}, false},
		"write her own status, to forge room ids": {authzv1.ResourceAttributes{Namespace: attacker.Namespace,
			Verb: "update", Group: group, Resource: "collaborationspaces", Subresource: "status", Name: "finance"}, false},
		"create a space of her own choosing": {authzv1.ResourceAttributes{Namespace: attacker.Namespace,
			Verb: "create", Group: group, Resource: "collaborationspaces"}, false},
		"create a ChatBackend": {authzv1.ResourceAttributes{Verb: "create", Group: group, Resource: "chatbackends"}, false},
		"read the backends' credentials": {authzv1.ResourceAttributes{Namespace: operatorNamespace,
			Verb: "get", Resource: "secrets"}, false},
		"read Secrets of her own namespace": {authzv1.ResourceAttributes{Namespace: attacker.Namespace,
			Verb: "list", Resource: "secrets"}, false},
		"bind herself a role": {authzv1.ResourceAttributes{Namespace: attacker.Namespace,
			Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			attrs := tc.attrs
			wait.Eventually(t, 30*time.Second, fmt.Sprintf("mallory may %s: %v", name, tc.want), func() (bool, string) {
				sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: "mallory", ResourceAttributes: &attrs}}
				if err := k8s.Create(context.Background(), sar); err != nil {
					return false, err.Error()
				}
				return sar.Status.Allowed == tc.want, fmt.Sprintf("allowed=%v", sar.Status.Allowed)
			})
		})
	}
}
