package validate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitFieldPath(t *testing.T) {
	cases := map[string][]string{
		"":                                  nil,
		"spec":                              {"spec"},
		"spec.chat.rooms[1].name":           {"spec", "chat", "rooms", "[1]", "name"},
		"metadata.labels[example.com/team]": {"metadata", "labels", "[example.com/team]"},
		"spec.forum.deploy.resources.limits[memory]": {"spec", "forum", "deploy", "resources", "limits", "[memory]"},
		"spec.broken[0": {"spec", "broken", "[0"},
	}
	for path, want := range cases {
		if diff := cmp.Diff(want, splitFieldPath(path)); diff != "" {
			t.Errorf("splitFieldPath(%q) (-want +got):\n%s", path, diff)
		}
	}
}

func TestLineOf(t *testing.T) {
	const doc = `# comment
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata:
  name: eng
  labels: {example.com/team: platform}
spec:
  members:
  - kind: Group
    name: eng
  - {kind: User, name: alice}
  chat:
    rooms: &rooms
    - {name: general}
  forum: {categories: *rooms}
`
	docs, probs := parseDocuments("f.yaml", []byte(doc))
	if len(probs) > 0 || len(docs) != 1 {
		t.Fatalf("want one document, got %d and %v", len(docs), probs)
	}
	cases := map[string]int{
		"":                                  2,
		"metadata":                          4,
		"metadata.labels[example.com/team]": 6,
		"spec.members":                      8,
		"spec.members[0].name":              10,
		"spec.members[1]":                   11,
		"spec.members[1].name":              11,
		"spec.members[2]":                   8, // no such item: its list
		"spec.department":                   7, // missing: its object
		"spec.chat.rooms[0].name":           14,
		"spec.forum.categories[0]":          14, // through the alias
	}
	for path, want := range cases {
		if got := lineOf(docs[0].node, path); got != want {
			t.Errorf("lineOf(%q) = %d, want %d", path, got, want)
		}
	}
}
