package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencommons/collab-operator/internal/dryrun"
	"github.com/opencommons/collab-operator/internal/validate"
)

func TestPlanArguments(t *testing.T) {
	badFile := filepath.Join(corpusDir, "01-duplicate-room-name.yaml")
	// Nothing listens here: a case that got as far as the cluster would say so.
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: eng}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		args       []string
		want       int
		wantStderr string
	}{
		"help":                         {args: []string{"plan", "--help"}, want: exitOK},
		"no path":                      {args: []string{"plan"}, want: exitUsage, wantStderr: "no FILE"},
		"an unknown output format":     {args: []string{"plan", "-o", "yaml", samplesDir}, want: exitUsage, wantStderr: "-o must be"},
		"a missing path":               {args: []string{"plan", "--kubeconfig", kubeconfig, "no/such/dir"}, want: exitUsage},
		"invalid input is not planned": {args: []string{"plan", "--kubeconfig", kubeconfig, badFile}, want: exitFindings, wantStderr: "the input is invalid"},
		"an unreachable cluster fails": {args: []string{"plan", "--kubeconfig", kubeconfig, "--timeout", "5s", samplesDir}, want: exitFindings, wantStderr: ""},
		"listed in the commands table": {args: []string{"help", "plan"}, want: exitOK},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := collabctl(t, "collabctl", "", tc.args...)
			if r.code != tc.want {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.want, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.wantStderr) {
				t.Errorf("stderr %q does not say %q", r.stderr, tc.wantStderr)
			}
		})
	}
}

func TestSpacesInTakesTheLastVersionAndDefaultsTheNamespace(t *testing.T) {
	in := []struct{ name, data string }{{"a.yaml", `apiVersion: v1
kind: Namespace
metadata: {name: eng}
---
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: eng}
spec: {department: Eng, description: first}
---
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: eng}
spec: {department: Eng, description: second}
---
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: ops, namespace: ops}
spec: {department: Ops, description: ops}
`}}
	inputs := toInputs(in)
	spaces, err := spacesIn(inputs, "eng")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range spaces {
		got = append(got, s.Namespace+"/"+s.Name+" "+s.Spec.Description)
	}
	if want := "eng/eng second,ops/ops ops"; strings.Join(got, ",") != want {
		t.Errorf("spaces %v, want %s", got, want)
	}
}

func toInputs(files []struct{ name, data string }) []validate.Input {
	var out []validate.Input
	for _, f := range files {
		out = append(out, validate.Input{Name: f.name, Data: []byte(f.data)})
	}
	return out
}

func TestPlanExitCode(t *testing.T) {
	change := []dryrun.Change{{Backend: dryrun.BackendChat, Verb: "create", Target: "#a:x"}}
	cases := map[string]struct {
		plans []dryrun.Plan
		want  int
	}{
		"nothing to do":                  {plans: []dryrun.Plan{{Space: "a/a"}}, want: exitOK},
		"no space at all":                {want: exitOK},
		"changes pending":                {plans: []dryrun.Plan{{Space: "a/a", Changes: change}}, want: exitChanges},
		"a part unknown, nothing seen":   {plans: []dryrun.Plan{{Space: "a/a", Unknown: []string{"x"}}}, want: exitUnknown},
		"changes and an unknown":         {plans: []dryrun.Plan{{Space: "a/a", Changes: change}, {Space: "b/b", Unknown: []string{"x"}}}, want: exitUnknown},
		"a space that cannot be planned": {plans: []dryrun.Plan{{Space: "a/a", Changes: change}, {Space: "b/b", Errors: []string{"x"}}}, want: exitFindings},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := planExitCode(tc.plans); got != tc.want {
				t.Errorf("exit %d, want %d", got, tc.want)
			}
		})
	}
	for _, code := range []int{exitChanges, exitUnknown} {
		if code == exitOK || code == exitFindings || code == exitUsage {
			t.Errorf("exit code %d is not distinct", code)
		}
	}
}
