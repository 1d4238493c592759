package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// teamSpace is a valid CollaborationSpace on the ChatBackend company-matrix.
func teamSpace(namespace, name, department, room string) string {
	return fmt.Sprintf(`apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: %s, namespace: %s}
spec:
  department: %s
  members: [{kind: Group, name: leads, role: Owner}]
  chat:
    backendRef: {name: company-matrix}
    rooms: [{name: %s}]
`, name, namespace, department, room)
}

// writeFiles writes name, content pairs into a new directory and returns it.
func writeFiles(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for i := 0; i < len(files); i += 2 {
		if err := os.WriteFile(filepath.Join(dir, files[i]), []byte(files[i+1]), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestValidateAcceptsNamespacedAliases: the operator names rooms
// #<namespace>.<space>.<room>, so neither the same space name in two
// namespaces nor space eng's room platform-sync beside space eng-platform's
// room sync is a conflict, and validate must not refuse them.
func TestValidateAcceptsNamespacedAliases(t *testing.T) {
	cases := map[string][]string{
		"a space named team in two namespaces": {
			"finance.yaml", teamSpace("dept-finance", "team", "Finance", "general"),
			"legal.yaml", teamSpace("dept-legal", "team", "Legal", "general"),
		},
		"eng/platform-sync beside eng-platform/sync": {
			"eng.yaml", teamSpace("dept-eng", "eng", "Engineering", "platform-sync"),
			"eng-platform.yaml", teamSpace("dept-eng", "eng-platform", "Platform", "sync"),
		},
	}
	for name, files := range cases {
		t.Run(name, func(t *testing.T) {
			r := collabctl(t, "collabctl", "", "validate", writeFiles(t, files...))
			if r.code != exitOK || r.stdout != "" {
				t.Errorf("exit code %d, stdout:\n%s\nwant 0 and no findings", r.code, r.stdout)
			}
		})
	}
}

// TestValidateMarkdown: -o markdown prints the comment a pull request shows,
// on stdout alone, with the exit code of the text output.
func TestValidateMarkdown(t *testing.T) {
	cases := map[string]struct {
		dir, golden string
		code        int
	}{
		"clean":    {"testdata/validate/clean", "validate-clean.md", exitOK},
		"findings": {"testdata/validate/findings", "validate-findings.md", exitFindings},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := collabctl(t, "collabctl", "", "validate", "-o", "markdown", tc.dir)
			if r.code != tc.code || r.stderr != "" {
				t.Errorf("exit code %d, stderr %q; want %d and nothing", r.code, r.stderr, tc.code)
			}
			golden(t, tc.golden, r.stdout)
		})
	}
}

func TestMarkdownCell(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"plain":       {"Duplicate value: \"#a.b:example.org\"", "Duplicate value: \"#a.b:example.org\""},
		"a pipe":      {`"Q1|Q2"`, `"Q1\|Q2"`},
		"markup":      {"*bold* _it_ `code` [link](x) <b>", `\*bold\* \_it\_ \` + "`" + `code\` + "`" + ` \[link\](x) &lt;b&gt;`},
		"line breaks": {"one\ntwo\r\n  three", "one two three"},
		"a backslash": {`a\b`, `a\\b`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, markdownCell(tc.in)); diff != "" {
				t.Errorf("markdownCell(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
