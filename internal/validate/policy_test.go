package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// policyCorpusDir is the corpus test/validation proves on a real kube-apiserver
// with the admission policies installed: offline, each file, given as both the
// manifests and the policy, must be refused with the server's words.
const policyCorpusDir = "../../test/validation/testdata/policy"

func TestPolicyCorpusRefusedWithServerMessages(t *testing.T) {
	v := newTestValidator(t)
	files, err := filepath.Glob(filepath.Join(policyCorpusDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found %d manifests in %s, want at least 10", len(files), policyCorpusDir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := expectations(data)
			in := []Input{{Name: f, Data: data}}
			report := v.Check(t.Context(), in, Options{Policies: in})
			var lines []string
			for _, fd := range report.Findings {
				lines = append(lines, fd.String())
			}
			t.Logf("findings:\n%s", strings.Join(lines, "\n"))
			if !HasErrors(report.Findings) {
				t.Fatalf("accepted; want it refused with %q", want)
			}
			for _, w := range want {
				if !containsSubstring(lines, w) {
					t.Errorf("no finding contains %q", w)
				}
			}
			// Without --policy the same files are fine: the rules are the policy's.
			if report := v.Check(t.Context(), in, Options{}); HasErrors(report.Findings) {
				t.Errorf("refused without a policy: %v", report.Findings)
			}
		})
	}
}

func TestSamplesAcceptedUnderTheSamplePolicy(t *testing.T) {
	v := newTestValidator(t)
	inputs, err := ReadInputs([]string{samplesDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	policies, err := ReadInputs([]string{filepath.Join(samplesDir, "policy.yaml")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	report := v.Check(t.Context(), inputs, Options{Policies: policies})
	for _, f := range report.Findings {
		t.Errorf("%s", f)
	}
}

// TestPolicyFindingPlacement: a refusal is placed at the offending field, and a
// space whose namespace is in no file is judged by its name label alone, with a
// warning.
func TestPolicyFindingPlacement(t *testing.T) {
	v := newTestValidator(t)
	policy := Input{Name: "policy.yaml", Data: []byte(`apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationPolicy
metadata: {name: strict}
spec:
  namespaceSelector:
    matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [dept-eng]}]
  limits: {rooms: 1}
`)}
	space := Input{Name: "space.yaml", Data: []byte(`apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: eng, namespace: dept-eng}
spec:
  department: Engineering
  members: [{kind: Group, name: leads, role: Owner}]
  deletionPolicy: Delete
  chat:
    backendRef: {name: matrix}
    rooms: [{name: general}, {name: random}]
`)}
	report := v.Check(t.Context(), []Input{space}, Options{Policies: []Input{policy}})
	var got []string
	for _, f := range report.Findings {
		got = append(got, f.String())
	}
	want := []string{
		`space.yaml:3: warning: metadata.namespace: Not found: namespace "dept-eng" is in none of the files, so the policies are matched against its name alone; give its Namespace manifest, with its labels, among the files or with --policy`,
		`space.yaml:7: spec.deletionPolicy: Delete is not allowed by CollaborationPolicy strict (spec.allowDeletionPolicyDelete is false); use Archive or Retain`,
		`space.yaml:10: spec.chat.rooms: 2 rooms, more than the 1 CollaborationPolicy strict allows (spec.limits.rooms)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
