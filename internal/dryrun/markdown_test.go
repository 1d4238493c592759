package dryrun

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the output")

// markdownCases are what a pull request's comment must show; their golden files
// are testdata/<name>.md.
var markdownCases = map[string][]Plan{
	"new-department": {{Space: "dept-finance/finance", New: true, Changes: []Change{
		{Backend: BackendKubernetes, Verb: "create", Target: "CollaborationSpace dept-finance/finance", Detail: "from the file"},
		{Backend: BackendKubernetes, Verb: "create", Target: "RoleBinding dept-finance/collab-finance-owners", Detail: "role collab-finance-owner to User fiona"},
		{Backend: BackendKubernetes, Verb: "create", Target: "Deployment dept-finance/finance-forum"},
		{Backend: BackendChat, Verb: "create", Target: "#dept-finance.finance:example.org", Detail: `space "Finance", join rule invite, inviting @fiona:example.org, @frank:example.org`},
		{Backend: BackendChat, Verb: "create", Target: "#dept-finance.finance.general:example.org", Detail: `room "general", join rule invite, inviting @fiona:example.org, @frank:example.org`},
		{Backend: BackendForum, Verb: "create", Target: `group "dept-finance-finance-members" on forum dept-finance/finance`, Detail: `description "Members"`},
		{Backend: BackendForum, Verb: "create", Target: `category "Budgets" on forum dept-finance/finance`, Detail: `description ""`},
		{Backend: BackendForum, Verb: "grant", Target: `category "Budgets (new)" on forum dept-finance/finance`, Object: "dept-finance-finance-members",
			Detail: "dept-finance-finance-members {find, read, topics:read, topics:create, topics:reply}"},
	}, Notes: []string{"The forum is not running yet: once it is, the operator creates its groups and categories as planned here"}}},
	"changed-and-unknown": {
		{Space: "eng/engineering", Changes: []Change{
			{Backend: BackendKubernetes, Verb: "update", Target: "RoleBinding eng/collab-engineering-members", Detail: "add User bob; remove User alice"},
			{Backend: BackendChat, Verb: "set-topic", Target: "#eng.engineering.general:x", Detail: `set topic to "a|b"`},
			{Backend: BackendChat, Verb: "invite", Target: "#eng.engineering.general:x", Object: "@bob:x", Detail: "invite @bob:x"},
			{Backend: BackendChat, Verb: "remove", Target: "#eng.engineering.general:x", Object: "@alice:x", Detail: "remove @alice:x"},
			{Backend: BackendForum, Verb: "invite", Target: `group "eng-engineering-members" on forum eng/engineering`, Object: "bob", Detail: "add member bob"},
			{Backend: BackendChat, Verb: "archive", Target: "#eng.engineering.old:x"},
		}},
		{Space: "ops/ops", Unknown: []string{"cannot tell what changes on ChatBackend matrix: its credentials Secret collab-operator-system/matrix cannot be read (the plan's role may not read Secrets)"}},
		{Space: "mkt/marketing", Errors: []string{"Nothing is changed until the space or the policy is: visibility Open is not allowed"}},
	},
	"no-changes": {{Space: "eng/engineering"}},
}

func TestMarkdownGolden(t *testing.T) {
	for name, plans := range markdownCases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteMarkdown(&b, plans); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".md")
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("%s differs (-want +got); if the change is meant, run go test -update:\n%s", path, diff)
			}
		})
	}
}

func TestPeople(t *testing.T) {
	cases := map[string]struct {
		changes          []Change
		invited, removed []string
	}{
		"a new room's invitations count": {
			changes: []Change{{Backend: BackendChat, Verb: "create", Target: "#r:x", Detail: `room "r", join rule invite, inviting @b:x, @a:x`}},
			invited: []string{"@a:x", "@b:x"},
		},
		"one person in two rooms is one": {
			changes: []Change{
				{Backend: BackendChat, Verb: "invite", Target: "#r:x", Object: "@a:x"},
				{Backend: BackendChat, Verb: "invite", Target: "#s:x", Object: "@a:x"},
				{Backend: BackendChat, Verb: "remove", Target: "#s:x", Object: "@c:x"},
			},
			invited: []string{"@a:x"}, removed: []string{"@c:x"},
		},
		"forum members count": {
			changes: []Change{{Backend: BackendForum, Verb: "invite", Object: "bob"}, {Backend: BackendForum, Verb: "remove", Object: "al"}},
			invited: []string{"bob"}, removed: []string{"al"},
		},
		"RoleBindings are permissions, not people": {
			changes: []Change{{Backend: BackendKubernetes, Verb: "update", Target: "RoleBinding a/b", Detail: "add User bob"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			invited, removed := People(tc.changes)
			if diff := cmp.Diff(tc.invited, invited); diff != "" {
				t.Errorf("invited (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.removed, removed); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
		})
	}
}
