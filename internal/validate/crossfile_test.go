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

// sharedForumSpace is a valid CollaborationSpace with a category on the shared
// forum "forum".
func sharedForumSpace(ns, name, dept string) string {
	return fmt.Sprintf(`apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: %s, namespace: %s}
spec:
  department: %s
  members: [{kind: Group, name: leads, role: Owner}]
  forum:
    backendRef: {name: forum}
    categories: [{name: general}]
`, name, ns, dept)
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
		"a department claimed twice, in another case, warns": {
			files: []string{
				"a.yaml", space("dept-a", "eng", "Engineering", "matrix"),
				"b.yaml", space("dept-b", "platform", "ENGINEERING", "matrix"),
			},
			want: []string{`b.yaml:5: warning: spec.department: Duplicate value: "ENGINEERING": department already claimed by CollaborationSpace/dept-a/eng (a.yaml:5); members would see two spaces of that name`},
		},
		// Aliases are <namespace>.<space>[.<room>] (internal/chat/matrix/plan), so
		// the same space name in two namespaces gives two aliases.
		"same-named spaces in two namespaces on one chat server": {
			files: []string{
				"a.yaml", space("dept-a", "team", "A", "matrix", room("general")),
				"b.yaml", space("dept-b", "team", "B", "matrix", room("general")),
			},
		},
		"a space and a room that made one alias before namespaced aliases": {
			files: []string{
				"a.yaml", space("dept-a", "eng", "A", "matrix", room("platform-sync")),
				"b.yaml", space("dept-a", "eng-platform", "B", "matrix", room("sync")),
			},
		},
		"a space named like the directory space": {
			files: []string{
				"backend.yaml", directoryBackend,
				"a.yaml", space("dept-a", "directory", "A", "matrix"),
			},
		},
		"two directory spaces on one chat server": {
			files: []string{
				"backend.yaml", directoryBackend,
				"other.yaml", strings.Replace(directoryBackend, "{name: matrix}", "{name: matrix-2}", 1),
			},
			want: []string{`other.yaml:9: spec.matrix.directorySpace: Duplicate value: "#directory:example.org": alias already claimed on ChatBackend matrix-2 by ChatBackend/matrix (backend.yaml:9)`},
		},
		"two directory spaces on two chat servers": {
			files: []string{
				"backend.yaml", directoryBackend,
				"other.yaml", strings.NewReplacer("{name: matrix}", "{name: matrix-2}", "serverName: example.org", "serverName: example.com").Replace(directoryBackend),
			},
		},
		"two directory spaces on one chat server, one with its own alias": {
			files: []string{
				"backend.yaml", directoryBackend,
				"other.yaml", strings.NewReplacer("{name: matrix}", "{name: matrix-2}", "{name: Example Org}", "{name: Example Org, alias: org}").Replace(directoryBackend),
			},
		},
		"members the ChatBackend cannot map to user ids": {
			files: []string{
				"backend.yaml", strings.Replace(directoryBackend, "    directorySpace:", "    userIDTemplate: \"@{{.Name}}:example.org\"\n    directorySpace:", 1),
				"a.yaml", strings.Replace(space("dept-a", "eng", "A", "matrix"), "{kind: Group, name: leads, role: Owner}", "{kind: User, name: Alice, role: Owner}", 1),
			},
			want: []string{`a.yaml:6: spec.members: Invalid value: ChatBackend matrix cannot map the members to user ids: member "Alice" maps to "@Alice:example.org", which is not a Matrix user id (@localpart:server, lower case): fix the member name or the ChatBackend's userIDTemplate`},
		},
		"same-named spaces in two namespaces on one shared forum": {
			files: []string{
				"a.yaml", sharedForumSpace("dept-a", "team", "A"),
				"b.yaml", sharedForumSpace("dept-b", "team", "B"),
			},
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
