package validation_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// policyCorpusDir holds the manifests a CollaborationPolicy, or a backend's
// namespaceSelector, forbids: each file sets up a labelled namespace and the
// policies and backends it needs, and its last document is the space the
// ValidatingAdmissionPolicies of config/admission must refuse.
const policyCorpusDir = "testdata/policy"

// admissionDir holds the ValidatingAdmissionPolicies and bindings config/default
// installs; TestMain installs them as they are.
const admissionDir = "../../config/admission"

// enforcementTimeout bounds how long the API server may take to see a new
// policy, binding or param (it reads them through informers).
const enforcementTimeout = 30 * time.Second

// installAdmission creates every object of config/admission.
func installAdmission(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(admissionDir, "*.yaml"))
	if err != nil {
		return err
	}
	n := 0
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		objs, err := decodeAll(data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, o := range objs {
			if err := k.Create(ctx, o, strict); err != nil {
				return fmt.Errorf("%s: cannot create %s %s: %w", f, o.GetKind(), o.GetName(), err)
			}
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("no object in %s", admissionDir)
	}
	return nil
}

// policyCase is one file of the policy corpus.
type policyCase struct {
	expect []string
	setup  []*unstructured.Unstructured
	bad    *unstructured.Unstructured
	// update: the bad document changes a space that setup created.
	update bool
}

func loadPolicyCase(path string) (policyCase, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return policyCase{}, err
	}
	var pc policyCase
	pc.expect = expectations(data)
	if len(pc.expect) == 0 {
		return pc, fmt.Errorf("no '# expect:' line")
	}
	docs, err := decodeAll(data)
	if err != nil {
		return pc, err
	}
	if len(docs) < 2 {
		return pc, fmt.Errorf("want the objects a policy needs, then the space it forbids; got %d documents", len(docs))
	}
	pc.setup, pc.bad = docs[:len(docs)-1], docs[len(docs)-1]
	if pc.bad.GetKind() != "CollaborationSpace" {
		return pc, fmt.Errorf("the last document is a %s, want the CollaborationSpace to refuse", pc.bad.GetKind())
	}
	for _, o := range pc.setup {
		if o.GetKind() == pc.bad.GetKind() && o.GetNamespace() == pc.bad.GetNamespace() && o.GetName() == pc.bad.GetName() {
			pc.update = true
		}
	}
	return pc, nil
}

// expectations reads the `# expect:` lines of a file's leading comments.
func expectations(data []byte) []string {
	var want []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		if m := expectLine.FindStringSubmatch(line); m != nil && m[1] != "" {
			want = append(want, m[1])
		}
	}
	return want
}

// TestPolicyRefusesForbiddenManifests: the ValidatingAdmissionPolicies refuse each
// manifest of the policy corpus on the real API server, as Forbidden, with the
// message that names the field, the policy and its rule.
func TestPolicyRefusesForbiddenManifests(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(policyCorpusDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("the policy corpus %s holds %d manifests, want one per rule (at least 10)", policyCorpusDir, len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			pc, err := loadPolicyCase(f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, o := range pc.setup {
				if err := createOrCleanUp(ctx, t, o.DeepCopy()); err != nil {
					t.Fatalf("cannot create %s %s: %v", o.GetKind(), o.GetName(), err)
				}
			}
			err = refusedEventually(ctx, t, pc)
			t.Logf("refused: %v", err)
			if !apierrors.IsForbidden(err) {
				t.Errorf("want Forbidden, got %s: %v", apierrors.ReasonForError(err), err)
			}
			for _, want := range pc.expect {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not contain %q", want)
				}
			}
		})
	}
}

// refusedEventually tries the bad document as a server-side dry run until the
// API server refuses it, and returns the refusal: a new param or binding takes
// the server a moment to see.
func refusedEventually(ctx context.Context, t *testing.T, pc policyCase) error {
	t.Helper()
	deadline := time.Now().Add(enforcementTimeout)
	for {
		bad := pc.bad.DeepCopy()
		var err error
		if pc.update {
			current := &unstructured.Unstructured{}
			current.SetGroupVersionKind(bad.GroupVersionKind())
			if err := k.Get(ctx, client.ObjectKeyFromObject(bad), current); err != nil {
				t.Fatal(err)
			}
			bad.SetResourceVersion(current.GetResourceVersion())
			err = k.Update(ctx, bad, strict, client.DryRunAll)
		} else {
			err = k.Create(ctx, bad, strict, client.DryRunAll)
		}
		if err != nil && !apierrors.IsConflict(err) {
			return err
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API server accepted the manifest for %s; want it refused with %q", enforcementTimeout, pc.expect)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPolicyLetsTheOperatorWriteMetadata: a space admitted before its policy was
// tightened can still get and lose finalizers and labels (the operator's own
// writes, and a user's), while a change of its spec is judged by the policy.
func TestPolicyLetsTheOperatorWriteMetadata(t *testing.T) {
	ctx := t.Context()
	objs, err := decodeAll([]byte(`
apiVersion: v1
kind: Namespace
metadata: {name: policy-tightened, labels: {collab.opencommons.io/case: policy-tightened}}
---
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: eng, namespace: policy-tightened}
spec:
  department: Engineering
  members: [{kind: Group, name: eng-leads, role: Owner}]
  deletionPolicy: Delete
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := createOrCleanUp(ctx, t, o); err != nil {
			t.Fatal(err)
		}
	}
	policy := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "collab.opencommons.io/v1alpha1", "kind": "CollaborationPolicy",
		"metadata": map[string]any{"name": "policy-tightened"},
		"spec": map[string]any{"namespaceSelector": map[string]any{
			"matchLabels": map[string]any{"collab.opencommons.io/case": "policy-tightened"}}},
	}}
	if err := createOrCleanUp(ctx, t, policy); err != nil {
		t.Fatal(err)
	}
	space := objs[1]
	key := client.ObjectKeyFromObject(space)
	// A spec change is refused once the server sees the policy.
	err = refusedEventually(ctx, t, policyCase{
		expect: []string{"spec.deletionPolicy"},
		bad:    withSpec(space, "description", "Tightened"),
		update: true,
	})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "spec.deletionPolicy: Delete is not allowed") {
		t.Fatalf("a spec change of a space that breaks the policy: want Forbidden naming spec.deletionPolicy, got %v", err)
	}
	// Metadata is not the policy's business.
	for _, change := range []func(*unstructured.Unstructured){
		func(u *unstructured.Unstructured) { u.SetFinalizers([]string{"collab.opencommons.io/finalizer"}) },
		func(u *unstructured.Unstructured) { u.SetLabels(map[string]string{"team": "platform"}) },
		func(u *unstructured.Unstructured) { u.SetFinalizers(nil) },
	} {
		current := &unstructured.Unstructured{}
		current.SetGroupVersionKind(space.GroupVersionKind())
		if err := k.Get(ctx, key, current); err != nil {
			t.Fatal(err)
		}
		change(current)
		if err := k.Update(ctx, current, strict); err != nil {
			t.Errorf("a metadata update of a space that breaks the policy was refused: %v", err)
		}
	}
}

// withSpec returns a copy of u with spec.<field> set.
func withSpec(u *unstructured.Unstructured, field string, value any) *unstructured.Unstructured {
	c := u.DeepCopy()
	_ = unstructured.SetNestedField(c.Object, value, "spec", field)
	return c
}

// TestSamplesAcceptedUnderTheSamplePolicy: config/samples' policy, once the API
// server enforces it, admits every sample space.
func TestSamplesAcceptedUnderTheSamplePolicy(t *testing.T) {
	ctx := t.Context()
	var policies, spaces, namespaces []*unstructured.Unstructured
	for _, f := range sampleFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decodeAll(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, o := range objs {
			switch o.GetKind() {
			case "CollaborationPolicy":
				policies = append(policies, o)
			case "CollaborationSpace":
				spaces = append(spaces, o)
			case "Namespace":
				namespaces = append(namespaces, o)
			}
		}
	}
	if len(policies) == 0 {
		t.Fatal("config/samples holds no CollaborationPolicy")
	}
	// The namespaces with their labels, which TestMain's ensureNamespaces does not set.
	for _, n := range namespaces {
		current := &unstructured.Unstructured{}
		current.SetGroupVersionKind(n.GroupVersionKind())
		err := k.Get(ctx, client.ObjectKeyFromObject(n), current)
		switch {
		case apierrors.IsNotFound(err):
			if err := k.Create(ctx, n.DeepCopy()); err != nil {
				t.Fatal(err)
			}
		case err != nil:
			t.Fatal(err)
		default:
			current.SetLabels(n.GetLabels())
			if err := k.Update(ctx, current); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range policies {
		if err := createOrCleanUp(ctx, t, p.DeepCopy()); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the server enforces the sample policy: a space in a selected
	// namespace asking for Delete is refused.
	probe := spaces[0].DeepCopy()
	probe.SetName("policy-probe")
	_ = unstructured.SetNestedField(probe.Object, "Delete", "spec", "deletionPolicy")
	err := refusedEventually(ctx, t, policyCase{expect: []string{"spec.deletionPolicy"}, bad: probe})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("the sample policy does not forbid deletionPolicy Delete in %s: %v", probe.GetNamespace(), err)
	}
	for _, s := range spaces {
		t.Run(s.GetNamespace()+"/"+s.GetName(), func(t *testing.T) {
			if err := k.Create(ctx, s.DeepCopy(), strict, client.DryRunAll); err != nil {
				t.Errorf("the sample was refused under the sample policy: %v", err)
			}
		})
	}
}
