package validate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// check runs v over files given as name, content, name, content… and returns
// the findings as a reviewer reads them.
func check(t *testing.T, v *Validator, opts Options, files ...string) []string {
	t.Helper()
	var inputs []Input
	for i := 0; i+1 < len(files); i += 2 {
		inputs = append(inputs, Input{Name: files[i], Data: []byte(strings.TrimLeft(files[i+1], "\n"))})
	}
	var got []string
	for _, f := range v.Check(t.Context(), inputs, opts).Findings {
		got = append(got, f.String())
	}
	return got
}

const skippedRules = "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"

func TestCheckObject(t *testing.T) {
	v := newTestValidator(t)
	cases := map[string]struct {
		yaml string
		want []string
	}{
		"defaults apply before the rules": {
			// role defaults to Member and visibility to Department: without
			// defaulting, the rules would fail with "no such key".
			yaml: `
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: eng, namespace: dept-eng}
spec:
  department: Engineering
  members: [{kind: Group, name: eng}]
  chat:
    backendRef: {name: m}
    rooms: [{name: general, sharedWith: [{namespace: dept-eng, name: eng}]}]
`,
			want: []string{"f.yaml:6: spec.members: Invalid value: at least one member must have role Owner"},
		},
		"unknown fields are refused, as with kubectl's strict field validation": {
			yaml: `
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: eng, namespace: dept-eng, label: {a: b}}
spec:
  department: Engineering
  members: [{kind: Group, name: eng, role: Owner}]
  chat:
    backendRef: {name: m}
    rooms:
    - name: general
      colour: blue
`,
			want: []string{
				`f.yaml:3: metadata.label: strict decoding error: unknown field "metadata.label"`,
				`f.yaml:11: spec.chat.rooms[0].colour: strict decoding error: unknown field "spec.chat.rooms[0].colour"`,
			},
		},
		"a missing field is shown at the object that lacks it, the skipped rules after it": {
			yaml: `
apiVersion: collab.opencommons.io/v1alpha1
kind: ChatBackend
metadata: {name: m}
spec:
  matrix:
    homeserverURL: https://matrix.example.org
`,
			want: []string{
				"f.yaml:5: spec.matrix.credentialsSecretRef: Required value",
				"f.yaml:5: spec.matrix.serverName: Required value",
				"f.yaml:5: " + skippedRules,
			},
		},
		"status is ignored, as the status subresource makes the server do": {
			yaml: `
apiVersion: collab.opencommons.io/v1alpha1
kind: ForumBackend
metadata: {name: f}
spec:
  nodebb: {url: https://forum.example.org, credentialsSecretRef: {namespace: s, name: c}}
status: {conditions: [{type: Ready}]}
`,
		},
		"a cluster-scoped object's namespace is dropped": {
			yaml: `
apiVersion: collab.opencommons.io/v1alpha1
kind: ForumBackend
metadata: {name: f, namespace: Not_A_Namespace}
spec:
  nodebb: {url: https://forum.example.org, credentialsSecretRef: {namespace: s, name: c}}
`,
		},
		"generateName stands in for the name": {
			yaml: `
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {generateName: eng-}
spec:
  department: Engineering
  members: [{kind: Group, name: eng, role: Owner}]
`,
		},
		"a name the server refuses": {
			yaml: `
apiVersion: collab.opencommons.io/v1alpha1
kind: ChatBackend
metadata: {name: Matrix_Server}
spec:
  matrix: {homeserverURL: https://m.example.org, serverName: example.org, credentialsSecretRef: {namespace: s, name: c}}
`,
			want: []string{`f.yaml:3: metadata.name: Invalid value: "Matrix_Server": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
		},
		"a kind or version the CRDs do not serve": {
			yaml: `
apiVersion: collab.opencommons.io/v1beta1
kind: CollaborationSpace
metadata: {name: eng}
---
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpaces
metadata: {name: eng}
`,
			want: []string{
				`f.yaml:1: no matches for kind "CollaborationSpace" in version "collab.opencommons.io/v1beta1"`,
				`f.yaml:5: no matches for kind "CollaborationSpaces" in version "collab.opencommons.io/v1alpha1"`,
			},
		},
		"objects of other groups are left alone": {
			yaml: `
apiVersion: v1
kind: ConfigMap
metadata: {name: Not Valid}
data: {a: [1]}
---
apiVersion: apps/v1
kind: Deployment
`,
		},
		"a document without kind": {
			yaml: `
apiVersion: collab.opencommons.io/v1alpha1
metadata: {name: eng}
`,
			want: []string{"f.yaml:1: kind: Required value: every object needs apiVersion and kind"},
		},
		"YAML errors are placed at their line in the file": {
			yaml: `
# a comment
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Namespace
metadata:
	name: b
--- not a comment
`,
			want: []string{
				"f.yaml:9: yaml: line 9: found character that cannot start any token",
				"f.yaml:10: invalid YAML document separator: not a comment",
			},
		},
		"a key written twice": {
			yaml: `
apiVersion: v1
kind: Namespace
metadata: {name: a}
kind: Namespace
`,
			want: []string{`f.yaml:4: yaml: unmarshal errors: line 4: key "kind" already set in map`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := check(t, v, Options{}, "f.yaml", tc.yaml)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckUpdate(t *testing.T) {
	v := newTestValidator(t)
	const backend = `
apiVersion: collab.opencommons.io/v1alpha1
kind: ChatBackend
metadata: {name: m}
spec:
  matrix:
    homeserverURL: https://m.example.org
    serverName: example.org
    credentialsSecretRef: {namespace: s, name: c}
    userIDTemplate: "%s"
  pollInterval: %s
`
	cases := map[string]struct {
		yaml string
		want []string
	}{
		"an object repeated in a file is its update": {
			yaml: `
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: eng, namespace: dept-eng}
spec:
  department: Engineering
  members: [{kind: Group, name: eng, role: Owner}]
  forum: {deploy: {store: {type: Redis}}}
---
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: eng, namespace: dept-eng}
spec:
  department: Engineering (renamed)
  members: [{kind: Group, name: eng, role: Owner}]
  forum: {deploy: {store: {type: External, secretRef: {name: db}}}}
`,
			want: []string{"f.yaml:15: spec.forum.deploy.store.type: Invalid value: type is immutable: the forum's data lives in the current store"},
		},
		"the namespace a manifest leaves out is the same in both": {
			yaml: `
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: eng}
spec:
  department: Engineering
  members: [{kind: Group, name: eng, role: Owner}]
  chat: {backendRef: {name: m}}
---
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: eng, namespace: default}
spec:
  department: Engineering
  members: [{kind: Group, name: eng, role: Owner}]
  chat: {backendRef: {name: other}}
`,
			want: []string{"f.yaml:15: spec.chat.backendRef: Invalid value: backendRef is immutable: moving to another chat server would orphan the rooms"},
		},
		"an error the update leaves as it was only warns (ratcheting)": {
			yaml: strings.Join([]string{
				sprintf(backend, "{{.Name}}", "5m"), "---\n", sprintf(backend, "{{.Name}}", "10m"),
			}, ""),
			want: []string{
				`f.yaml:9: spec.matrix.userIDTemplate: Invalid value: "{{.Name}}": userIDTemplate must render a Matrix user id: start with @, use .Name in an action such as {{.Name}} or {{lower .Name}}, and end with :<serverName>`,
				`f.yaml:20: warning: spec.matrix.userIDTemplate: Invalid value: "{{.Name}}": userIDTemplate must render a Matrix user id: start with @, use .Name in an action such as {{.Name}} or {{lower .Name}}, and end with :<serverName>`,
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := check(t, v, Options{}, "f.yaml", tc.yaml)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// sprintf is fmt.Sprintf for a YAML document written from its first line.
func sprintf(format string, args ...any) string {
	return strings.TrimLeft(fmt.Sprintf(format, args...), "\n")
}
