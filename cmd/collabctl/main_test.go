package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/opencommons/collab-operator/internal/validate"
)

const (
	samplesDir = "../../config/samples"
	corpusDir  = "../../test/validation/testdata/invalid"
)

// result is what a run of collabctl left behind.
type result struct {
	code           int
	stdout, stderr string
}

// collabctl runs the command in-process, as prog, with stdin.
func collabctl(t *testing.T, prog, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := env{prog: prog, stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr}
	code := run(t.Context(), e, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestExitCodes(t *testing.T) {
	badFile := filepath.Join(corpusDir, "01-duplicate-room-name.yaml")
	cases := map[string]struct {
		args []string
		want int
	}{
		"samples pass":                 {[]string{"validate", samplesDir}, exitOK},
		"a bad manifest fails":         {[]string{"validate", samplesDir, badFile}, exitFindings},
		"flags after the paths":        {[]string{"validate", badFile, "-o", "json"}, exitFindings},
		"-- ends the flags":            {[]string{"validate", "--", samplesDir}, exitOK},
		"no path":                      {[]string{"validate"}, exitUsage},
		"a missing path":               {[]string{"validate", "no/such/dir"}, exitUsage},
		"an unknown flag":              {[]string{"validate", "--nope", samplesDir}, exitUsage},
		"an unknown output format":     {[]string{"validate", "-o", "yaml", samplesDir}, exitUsage},
		"plan without files":           {[]string{"plan"}, exitUsage},
		"orphans takes no files":       {[]string{"orphans", samplesDir}, exitUsage},
		"orphans in yaml":              {[]string{"orphans", "-o", "yaml"}, exitUsage},
		"help for orphans":             {[]string{"help", "orphans"}, exitOK},
		"orphans without a cluster":    {[]string{"orphans", "--kubeconfig", "no/such/kubeconfig"}, exitFindings},
		"an unknown command":           {[]string{"apply"}, exitUsage},
		"no command":                   {nil, exitUsage},
		"help":                         {[]string{"--help"}, exitOK},
		"help for validate":            {[]string{"help", "validate"}, exitOK},
		"a warning does not fail":      {[]string{"validate", filepath.Join(samplesDir, "engineering.yaml")}, exitOK},
		"unless references are strict": {[]string{"validate", "--strict-refs", filepath.Join(samplesDir, "engineering.yaml")}, exitFindings},
		"samples under their policy":   {[]string{"validate", samplesDir, "--policy", filepath.Join(samplesDir, "policy.yaml")}, exitOK},
		"a missing policy file":        {[]string{"validate", samplesDir, "--policy", "no/such/policy.yaml"}, exitUsage},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := collabctl(t, "collabctl", "", tc.args...)
			if r.code != tc.want {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.want, r.stdout, r.stderr)
			}
		})
	}
}

func TestTextOutput(t *testing.T) {
	r := collabctl(t, "collabctl", "", "validate", filepath.Join(corpusDir, "01-duplicate-room-name.yaml"))
	want := "../../test/validation/testdata/invalid/01-duplicate-room-name.yaml:14: spec.chat.rooms[1]: Duplicate value: {\"name\":\"general\"}\n"
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	if want := "1 error, 0 warnings in 1 file (1 object checked)\n"; r.stderr != want {
		t.Errorf("stderr = %q, want the summary %q", r.stderr, want)
	}
}

func TestJSONOutput(t *testing.T) {
	file := filepath.Join(corpusDir, "20-shared-room-in-private-space.yaml")
	r := collabctl(t, "collabctl", "", "validate", "-o", "json", file)
	if r.code != exitFindings {
		t.Fatalf("exit code %d, want %d; stderr: %s", r.code, exitFindings, r.stderr)
	}
	var got []validate.Finding
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout is not a JSON array of findings: %v\n%s", err, r.stdout)
	}
	obj := validate.ObjectRef{Kind: "CollaborationSpace", Namespace: "dept-research", Name: "private-shared"}
	want := []validate.Finding{
		{File: file, Line: 12, Object: obj, Field: "spec.chat.rooms", Severity: validate.SeverityError,
			Message: "Invalid value: rooms of a Private space cannot be shared with other departments"},
		{File: file, Line: 14, Object: obj, Field: "spec.chat.rooms[0].sharedWith[0]", Severity: validate.SeverityWarning,
			Message: `Not found: "dept-engineering/engineering": no CollaborationSpace dept-engineering/engineering among the checked files; if it lives elsewhere, this is fine (--strict-refs makes it an error)`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing besides the JSON", r.stderr)
	}
}

func TestJSONOutputEmpty(t *testing.T) {
	r := collabctl(t, "collabctl", "", "validate", "--output=json", samplesDir)
	if r.code != exitOK || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("exit code %d, stdout %q; want 0 and []", r.code, r.stdout)
	}
}

func TestStdin(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusDir, "03-no-owner.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := collabctl(t, "collabctl", string(data), "validate", "-")
	want := "<stdin>:9: spec.members: Invalid value: at least one member must have role Owner\n"
	if r.code != exitFindings || r.stdout != want {
		t.Errorf("exit code %d, stdout %q; want %d and %q", r.code, r.stdout, exitFindings, want)
	}
}

func TestKubectlPlugin(t *testing.T) {
	if got := progName("/usr/local/bin/kubectl-collab"); got != "kubectl collab" {
		t.Errorf("progName(kubectl-collab) = %q, want %q", got, "kubectl collab")
	}
	if got := progName("./collabctl"); got != "collabctl" {
		t.Errorf("progName(collabctl) = %q", got)
	}
	r := collabctl(t, "kubectl collab", "", "validate", "--help")
	if !strings.Contains(r.stdout, "kubectl collab validate [flags]") {
		t.Errorf("help does not show the plugin's name:\n%s", r.stdout)
	}
}

// TestPolicy: --policy refuses a space its policy forbids, with the API server's
// message at the offending line; the same space passes without it.
func TestPolicy(t *testing.T) {
	file := "../../test/validation/testdata/policy/09-deletion-policy-delete.yaml"
	r := collabctl(t, "collabctl", "", "validate", file, "--policy", file)
	want := file + ":20: spec.deletionPolicy: Delete is not allowed by CollaborationPolicy policy-delete " +
		"(spec.allowDeletionPolicyDelete is false); use Archive or Retain\n"
	if r.code != exitFindings || r.stdout != want {
		t.Errorf("exit code %d, stdout %q; want %d and %q\nstderr: %s", r.code, r.stdout, exitFindings, want, r.stderr)
	}
	if r := collabctl(t, "collabctl", "", "validate", file); r.code != exitOK {
		t.Errorf("without --policy: exit code %d, stdout %q", r.code, r.stdout)
	}
}
