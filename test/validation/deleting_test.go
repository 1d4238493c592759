package validation_test

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestNoUpdateNamesABackendBeingDeleted: on the real API server with
// config/admission installed, a space that had no chat may not be updated to
// name a ChatBackend that is being deleted. backendRef cannot be removed again,
// so the space would keep the backend for as long as it lives. Before the fix
// the rule held for a create only.
func TestNoUpdateNamesABackendBeingDeleted(t *testing.T) {
	ctx := t.Context()
	objs, err := decodeAll([]byte(`
apiVersion: v1
kind: Namespace
metadata: {name: pin-deleting}
---
apiVersion: collab.opencommons.io/v1alpha1
kind: ChatBackend
metadata: {name: pin-deleting, finalizers: [collab.opencommons.io/test-hold]}
spec:
  matrix: {homeserverURL: "https://matrix.example.org", serverName: example.org, credentialsSecretRef: {name: creds}}
---
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: eng, namespace: pin-deleting}
spec:
  department: Engineering
  members: [{kind: Group, name: eng-leads, role: Owner}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := createOrCleanUp(ctx, t, o.DeepCopy()); err != nil {
			t.Fatalf("cannot create %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	backend := objs[1].DeepCopy()
	t.Cleanup(func() { // let the backend go once the test is done
		current := &unstructured.Unstructured{}
		current.SetGroupVersionKind(backend.GroupVersionKind())
		if err := k.Get(ctx, client.ObjectKeyFromObject(backend), current); err == nil {
			current.SetFinalizers(nil)
			_ = k.Update(ctx, current)
		}
	})
	if err := k.Delete(ctx, backend); err != nil {
		t.Fatal(err)
	}
	bad := objs[2].DeepCopy()
	_ = unstructured.SetNestedMap(bad.Object, map[string]any{
		"backendRef": map[string]any{"name": "pin-deleting"},
		"rooms":      []any{map[string]any{"name": "general"}},
	}, "spec", "chat")
	const want = "spec.chat.backendRef: ChatBackend pin-deleting is being deleted"
	err = refusedEventually(ctx, t, policyCase{update: true, bad: bad, expect: []string{want}})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("adding chat.backendRef by an update got %v, want Forbidden: %s", err, want)
	}
}
