package validate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// space is a valid CollaborationSpace: metadata on line 3, department on
// line 5, rooms on line 9.
func space(ns, name, dept, backend string, rooms ...string) string {
	return fmt.Sprintf(`apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: %s, namespace: %s}
spec:
  department: %s
  members: [{kind: Group, name: leads, role: Owner}]
  chat:
    backendRef: {name: %s}
    rooms: [%s]
`, name, ns, dept, backend, strings.Join(rooms, ", "))
}

// room is a room in flow style, optionally shared with namespace/name pairs.
func room(name string, sharedWith ...string) string {
	var refs []string
	for _, s := range sharedWith {
		ns, n, _ := strings.Cut(s, "/")
		refs = append(refs, fmt.Sprintf("{namespace: %s, name: %s}", ns, n))
	}
	return fmt.Sprintf("{name: %s, sharedWith: [%s]}", name, strings.Join(refs, ", "))
}

const directoryBackend = `apiVersion: collab.opencommons.io/v1alpha1
kind: ChatBackend
metadata: {name: matrix}
spec:
  matrix:
    homeserverURL: https://m.example.org
    serverName: example.org
    credentialsSecretRef: {namespace: s, name: c}
    directorySpace: {name: Example Org}
`

func TestCrossFile(t *testing.T) {
	v := newTestValidator(t)
	cases := map[string]struct {
		opts  Options
		files []string
		want  []string
	}{
		"distinct spaces pass": {
			files: []string{
				"a.yaml", space("dept-a", "eng", "Engineering", "matrix", room("general", "dept-b/marketing")),
				"b.yaml", space("dept-b", "marketing", "Marketing", "matrix", room("general", "dept-a/eng")),
			},
		},
		"a department claimed twice, in another case": {
			files: []string{
				"a.yaml", space("dept-a", "eng", "Engineering", "matrix"),
				"b.yaml", space("dept-b", "platform", "ENGINEERING", "matrix"),
			},
			want: []string{`b.yaml:5: spec.department: Duplicate value: "ENGINEERING": department already claimed by CollaborationSpace/dept-a/eng (a.yaml:5)`},
		},
		"same-named spaces on one chat server": {
			files: []string{
				"a.yaml", space("dept-a", "eng", "A", "matrix", room("general")),
				"b.yaml", space("dept-b", "eng", "B", "matrix", room("general")),
			},
			want: []string{
				`b.yaml:3: metadata.name: Duplicate value: "#eng": alias already claimed on ChatBackend matrix by CollaborationSpace/dept-a/eng (a.yaml:3)`,
				`b.yaml:9: spec.chat.rooms[0].name: Duplicate value: "#eng-general": alias already claimed on ChatBackend matrix by CollaborationSpace/dept-a/eng (a.yaml:9)`,
			},
		},
		"same-named spaces on two chat servers": {
			files: []string{
				"a.yaml", space("dept-a", "eng", "A", "matrix", room("general")),
				"b.yaml", space("dept-b", "eng", "B", "other-matrix", room("general")),
			},
		},
		"a space and a room that make the same alias": {
			files: []string{
				"a.yaml", space("dept-a", "eng", "A", "matrix", room("platform-sync")),
				"b.yaml", space("dept-b", "eng-platform", "B", "matrix", room("sync")),
			},
			want: []string{`b.yaml:9: spec.chat.rooms[0].name: Duplicate value: "#eng-platform-sync": alias already claimed on ChatBackend matrix by CollaborationSpace/dept-a/eng (a.yaml:9)`},
		},
		"a space named like the directory space": {
			files: []string{
				"backend.yaml", directoryBackend,
				"a.yaml", space("dept-a", "directory", "A", "matrix"),
			},
			want: []string{`a.yaml:3: metadata.name: Duplicate value: "#directory": alias already claimed on ChatBackend matrix by ChatBackend/matrix (backend.yaml:9)`},
		},
		"sharedWith a space not among the files warns": {
			files: []string{
				"a.yaml", space("dept-a", "eng", "A", "matrix", room("general"), room("sync", "dept-b/marketing")),
			},
			want: []string{`a.yaml:9: warning: spec.chat.rooms[1].sharedWith[0]: Not found: "dept-b/marketing": no CollaborationSpace dept-b/marketing among the checked files; if it lives elsewhere, this is fine (--strict-refs makes it an error)`},
		},
		"sharedWith a space not among the files, strictly": {
			opts: Options{StrictRefs: true},
			files: []string{
				"a.yaml", space("dept-a", "eng", "A", "matrix", room("sync", "dept-b/marketing")),
			},
			want: []string{`a.yaml:9: spec.chat.rooms[0].sharedWith[0]: Not found: "dept-b/marketing": no CollaborationSpace dept-b/marketing among the checked files`},
		},
		"sharedWith a space in the namespace given for manifests without one": {
			opts: Options{Namespace: "dept-b"},
			files: []string{
				"a.yaml", space("dept-a", "eng", "A", "matrix", room("sync", "dept-b/marketing")),
				"b.yaml", strings.Replace(space("", "marketing", "B", "matrix"), "namespace: }", "}", 1),
			},
		},
		"one object in two files": {
			files: []string{
				"a.yaml", space("dept-a", "eng", "Engineering", "matrix", room("general")),
				"b.yaml", space("dept-a", "eng", "Engineering", "matrix", room("general")),
			},
			want: []string{`b.yaml:3: warning: metadata.name: Duplicate value: "eng": the object is also defined at a.yaml:3; only one definition stays applied`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := check(t, v, tc.opts, tc.files...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStrictRefsFailsTheCheck(t *testing.T) {
	v := newTestValidator(t)
	in := []Input{{Name: "a.yaml", Data: []byte(space("dept-a", "eng", "A", "matrix", room("sync", "dept-b/marketing")))}}
	if r := v.Check(t.Context(), in, Options{}); HasErrors(r.Findings) {
		t.Errorf("a dangling sharedWith must only warn by default, got %v", r.Findings)
	}
	if r := v.Check(t.Context(), in, Options{StrictRefs: true}); !HasErrors(r.Findings) {
		t.Error("a dangling sharedWith must be an error with StrictRefs")
	}
}
