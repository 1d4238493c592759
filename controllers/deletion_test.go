package controllers

import (
	"context"
	"fmt"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

func TestDeletionPolicies(t *testing.T) {
	tests := map[string]struct {
		policy       collabv1.DeletionPolicy
		keepBindings bool
	}{
		"Archive removes access, keeps nothing of Kubernetes' own": {policy: collabv1.DeletionPolicyArchive},
		"Retain lets go of the bindings untouched":                 {policy: collabv1.DeletionPolicyRetain, keepBindings: true},
		"Delete purges the bindings":                               {policy: collabv1.DeletionPolicyDelete},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ns := newNamespace(t)
			space := newSpace(ns, "ops")
			space.Spec.DeletionPolicy = tc.policy
			createSpace(t, space)
			waitReady(t, client.ObjectKeyFromObject(space))

			if err := k8sClient.Delete(context.Background(), space); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the space to be gone", func() (bool, string) {
				err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(space), space)
				return apierrors.IsNotFound(err), fmt.Sprint(err)
			})

			var bindings rbacv1.RoleBindingList
			if err := k8sClient.List(context.Background(), &bindings, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			var roles rbacv1.RoleList
			if err := k8sClient.List(context.Background(), &roles, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			if !tc.keepBindings {
				if len(bindings.Items)+len(roles.Items) != 0 {
					t.Fatalf("%d RoleBindings and %d Roles left after deletion, want none", len(bindings.Items), len(roles.Items))
				}
				return
			}
			if len(bindings.Items) != 3 || len(roles.Items) != 2 {
				t.Fatalf("kept %d RoleBindings and %d Roles, want 3 and 2", len(bindings.Items), len(roles.Items))
			}
			for _, b := range bindings.Items {
				if len(b.OwnerReferences) != 0 {
					t.Errorf("RoleBinding %s still has owner references %v: the garbage collector would delete it", b.Name, b.OwnerReferences)
				}
			}
			// Retained bindings still work.
			checkAccess(t, ns, "ops", []access{{user: "lead", groups: []string{"eng-leads"}, verb: "update", want: true}})
		})
	}
}
