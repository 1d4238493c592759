package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

// People resolved from Group members reach chat like User members; a person who
// is also a User member, or in two groups, gets the highest role.
func TestDesiredRoomsWithPeople(t *testing.T) {
	cases := map[string]struct {
		people []chat.Person
		want   map[string]int
	}{
		"no people: only User members": {
			want: map[string]int{"@alice:example.org": 90, "@bob:example.org": 50, "@carol:example.org": 0},
		},
		"people of a group join with the group's role": {
			people: []chat.Person{{Name: "dave", Role: collabv1.RoleOwner}, {Name: "erin", Role: collabv1.RoleMember}},
			want: map[string]int{"@alice:example.org": 90, "@bob:example.org": 50, "@carol:example.org": 0,
				"@dave:example.org": 90, "@erin:example.org": 0},
		},
		"the highest role wins over a User member's lower one": {
			people: []chat.Person{{Name: "carol", Role: collabv1.RoleModerator}},
			want:   map[string]int{"@alice:example.org": 90, "@bob:example.org": 50, "@carol:example.org": 50},
		},
		"and a User member's higher role wins over a group's": {
			people: []chat.Person{{Name: "alice", Role: collabv1.RoleMember}},
			want:   map[string]int{"@alice:example.org": 90, "@bob:example.org": 50, "@carol:example.org": 0},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := chat.DesiredInput{OperatorUserID: "@op:example.org", People: tc.people}
			space, _, err := New(Config{ServerName: "example.org"}).DesiredRooms(engineering(collabv1.VisibilityDepartment), in)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for u, l := range space.PowerLevels.Users {
				if u != "@op:example.org" {
					got[u] = l
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("levels (-want +got):\n%s", diff)
			}
			var invite []string
			for u := range tc.want {
				invite = append(invite, u)
			}
			if diff := cmp.Diff(invite, space.Invite, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("invite (-want +got):\n%s", diff)
			}
		})
	}
}

// A directory may hold names that make no Matrix user id; they are set aside,
// never a reason to stop the space.
func TestMapPeople(t *testing.T) {
	cases := map[string]struct {
		template     string
		people       []chat.Person
		wantMapped   []string
		wantUnmapped []string
		wantErr      bool
	}{
		"plain names map": {
			people: []chat.Person{{Name: "alice"}, {Name: "bob.smith"}}, wantMapped: []string{"alice", "bob.smith"},
		},
		"capitals and spaces do not": {
			people:     []chat.Person{{Name: "Alice"}, {Name: "bob smith"}, {Name: "carol"}, {Name: "x:evil.org"}},
			wantMapped: []string{"carol"}, wantUnmapped: []string{"Alice", "bob smith", "x:evil.org"},
		},
		"a template that lower-cases maps capitals": {
			template: "@{{lower .Name}}:example.org", people: []chat.Person{{Name: "Alice"}}, wantMapped: []string{"Alice"},
		},
		"a broken template is an error": {
			template: "@{{.Name:example.org", people: []chat.Person{{Name: "alice"}}, wantErr: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			mapped, unmapped, err := New(Config{ServerName: "example.org", UserIDTemplate: tc.template}).MapPeople(tc.people)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			var names []string
			for _, p := range mapped {
				names = append(names, p.Name)
			}
			if diff := cmp.Diff(tc.wantMapped, names, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("mapped (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantUnmapped, unmapped, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("unmapped (-want +got):\n%s", diff)
			}
		})
	}
}
