package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

func engineering(vis collabv1.Visibility, rooms ...collabv1.Room) *collabv1.CollaborationSpace {
	cs := &collabv1.CollaborationSpace{Spec: collabv1.CollaborationSpaceSpec{
		Department: "Engineering", Description: "Where engineering talks", Visibility: vis,
		Members: []collabv1.Member{
			{Kind: collabv1.SubjectGroup, Name: "eng-leads", Role: collabv1.RoleOwner},
			{Kind: collabv1.SubjectUser, Name: "alice", Role: collabv1.RoleOwner},
			{Kind: collabv1.SubjectUser, Name: "bob", Role: collabv1.RoleModerator},
			{Kind: collabv1.SubjectUser, Name: "carol"}, // role defaulted by the API server
			{Kind: collabv1.SubjectServiceAccount, Name: "bot", Role: collabv1.RoleOwner},
		},
		Chat: &collabv1.ChatSpec{Rooms: rooms},
	}}
	cs.Name, cs.Namespace = "engineering", "dept-engineering"
	return cs
}

// wantLevels are the levels of a room of engineering whose posting level is posting.
func wantLevels(posting int) chat.PowerLevels {
	return chat.PowerLevels{
		Users:        map[string]int{"@op:example.org": 100, "@alice:example.org": 90, "@bob:example.org": 50, "@carol:example.org": 0},
		UsersDefault: 0, EventsDefault: posting, StateDefault: 50, Invite: 50, Kick: 50, Ban: 50, Redact: 50,
		Events: managedEvents,
	}
}

var members = []string{"@alice:example.org", "@bob:example.org", "@carol:example.org"}

func TestDesiredRooms(t *testing.T) {
	planner := New(Config{ServerName: "example.org"})
	in := chat.DesiredInput{
		OperatorUserID: "@op:example.org",
		SharedSpaceIDs: map[string]string{"dept-marketing/marketing": "!mkt:example.org"},
	}
	shared := []collabv1.SpaceReference{{Namespace: "dept-marketing", Name: "marketing"}, {Namespace: "dept-sales", Name: "sales"}}
	type want struct {
		space chat.RoomSpec
		rooms []chat.RoomSpec
	}
	spaceRoom := func(rule chat.JoinRule, published bool) chat.RoomSpec {
		return chat.RoomSpec{AliasLocalpart: "dept-engineering.engineering",
			CanonicalAlias: "#dept-engineering.engineering:example.org", Name: "Engineering", Topic: "Where engineering talks",
			Space: true, JoinRule: rule, Published: published, WorldReadable: published, PowerLevels: wantLevels(90),
			Invite: members, Owner: "dept-engineering/engineering"}
	}
	room := func(name string, rule chat.JoinRule, allow []string, published bool, posting int) chat.RoomSpec {
		return chat.RoomSpec{AliasLocalpart: "dept-engineering.engineering." + name,
			CanonicalAlias: "#dept-engineering.engineering." + name + ":example.org", Name: "Engineering · " + name,
			PriorNames: []string{name}, JoinRule: rule, AllowRoomIDs: allow,
			Published: published, PowerLevels: wantLevels(posting), Invite: members,
			Owner: "dept-engineering/engineering", Parent: "!eng:example.org"}
	}
	offered := func(r chat.RoomSpec) chat.RoomSpec {
		r.OfferedInSpace = true
		return r
	}
	cases := map[string]struct {
		space *collabv1.CollaborationSpace
		want  want
	}{
		"department: restricted to the space and the resolved shared spaces": {
			space: engineering(collabv1.VisibilityDepartment,
				collabv1.Room{Name: "general", Topic: "Everything"},
				collabv1.Room{Name: "platform-sync", SharedWith: shared}),
			want: want{spaceRoom(chat.JoinRuleInvite, false), []chat.RoomSpec{
				func() chat.RoomSpec {
					r := offered(room("general", chat.JoinRuleRestricted, []string{"!eng:example.org"}, false, 0))
					r.Topic = "Everything"
					return r
				}(),
				offered(room("platform-sync", chat.JoinRuleRestricted, []string{"!eng:example.org", "!mkt:example.org"}, false, 0)),
			}},
		},
		"open: public and published": {
			space: engineering(collabv1.VisibilityOpen, collabv1.Room{Name: "general", Posting: collabv1.PostingEveryone}),
			want: want{spaceRoom(chat.JoinRulePublic, true), []chat.RoomSpec{
				offered(room("general", chat.JoinRulePublic, nil, true, 0)),
			}},
		},
		"private: invite only; posting levels": {
			space: engineering(collabv1.VisibilityPrivate,
				collabv1.Room{Name: "announcements", Posting: collabv1.PostingOwners},
				collabv1.Room{Name: "mods", Posting: collabv1.PostingModerators},
				collabv1.Room{Name: "general", Posting: collabv1.PostingMembers}),
			want: want{spaceRoom(chat.JoinRuleInvite, false), []chat.RoomSpec{
				room("announcements", chat.JoinRuleInvite, nil, false, 90),
				room("mods", chat.JoinRuleInvite, nil, false, 50),
				room("general", chat.JoinRuleInvite, nil, false, 0),
			}},
		},
		"no chat: only the space": {
			space: func() *collabv1.CollaborationSpace {
				cs := engineering(collabv1.VisibilityPrivate)
				cs.Spec.Chat = nil
				return cs
			}(),
			want: want{space: spaceRoom(chat.JoinRuleInvite, false)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			layout, err := planner.Layout(tc.space, in)
			if err != nil {
				t.Fatal(err)
			}
			sp := layout.SpaceRoom
			rooms, err := layout.Rooms("!eng:example.org")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want.space, sp, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("space (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want.rooms, rooms, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("rooms (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRoomsOfferedInTheirSpace: by default a room its space's members may join
// in one step is offered in the space, not sent as an invitation; invite-only
// rooms, rooms whose space is not made yet and backends that ask for PerRoom
// invitations still invite each member.
func TestRoomsOfferedInTheirSpace(t *testing.T) {
	shared := []collabv1.SpaceReference{{Namespace: "dept-marketing", Name: "marketing"}}
	cases := map[string]struct {
		visibility collabv1.Visibility
		perRoom    bool
		spaceID    string
		want       []string // each room's invitations
	}{
		"department":                 {visibility: collabv1.VisibilityDepartment, spaceID: "!eng:x", want: []string{"", ""}},
		"open":                       {visibility: collabv1.VisibilityOpen, spaceID: "!eng:x", want: []string{"", ""}},
		"private: invite only":       {visibility: collabv1.VisibilityPrivate, spaceID: "!eng:x", want: []string{"alice bob carol", "alice bob carol"}},
		"department, space not made": {visibility: collabv1.VisibilityDepartment, want: []string{"alice bob carol", "alice bob carol"}},
		"department, PerRoom":        {visibility: collabv1.VisibilityDepartment, perRoom: true, spaceID: "!eng:x", want: []string{"alice bob carol", "alice bob carol"}},
		"open, PerRoom":              {visibility: collabv1.VisibilityOpen, perRoom: true, spaceID: "!eng:x", want: []string{"alice bob carol", "alice bob carol"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			planner := New(ConfigFor(&collabv1.MatrixBackend{ServerName: "x", Invitations: map[bool]collabv1.Invitations{
				true: collabv1.InvitationsPerRoom, false: collabv1.InvitationsPerSpace}[tc.perRoom]}))
			cs := engineering(tc.visibility, collabv1.Room{Name: "general"}, collabv1.Room{Name: "sync", SharedWith: shared})
			layout, err := planner.Layout(cs, chat.DesiredInput{OperatorUserID: "@op:x",
				SharedSpaceIDs: map[string]string{"dept-marketing/marketing": "!mkt:x"}})
			if err != nil {
				t.Fatal(err)
			}
			sp := layout.SpaceRoom
			rooms, err := layout.Rooms(tc.spaceID)
			if err != nil {
				t.Fatal(err)
			}
			if got := localparts(sp.Invitations()); got != "alice bob carol" {
				t.Errorf("the space invites %q, want every member", got)
			}
			var got []string
			for _, r := range rooms {
				got = append(got, localparts(r.Invitations()))
				if diff := cmp.Diff([]string{"@alice:x", "@bob:x", "@carol:x"}, r.Invite); diff != "" {
					t.Errorf("%s's members (-want +got):\n%s", r.Name, diff)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("invitations to each room (-want +got):\n%s", diff)
			}
		})
	}
}

// localparts is "alice bob" for ["@alice:x", "@bob:x"].
func localparts(ids []string) string {
	var out []string
	for _, id := range ids {
		out = append(out, strings.TrimPrefix(strings.Split(id, ":")[0], "@"))
	}
	return strings.Join(out, " ")
}

func TestDesiredRoomsUserIDTemplate(t *testing.T) {
	cases := map[string]struct {
		template string
		name     string
		want     string
		wantErr  string
	}{
		"default":              {name: "alice", want: "@alice:example.org"},
		"custom server":        {template: "@{{.Name}}:chat.example.com", name: "alice", want: "@alice:chat.example.com"},
		"e-mail names lowered": {template: `@{{ replace (lower .Name) "@" "." }}:example.org`, name: "Alice@Corp.com", want: "@alice.corp.com:example.org"},
		"upper case is no id":  {name: "Alice", wantErr: `member "Alice" maps to "@Alice:example.org", which is not a Matrix user id`},
		"broken template":      {template: "@{{.Name:x", name: "alice", wantErr: "cannot parse userIDTemplate"},
		"unknown field fails":  {template: "@{{.Email}}:x", name: "alice", wantErr: "cannot map member"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cs := engineering(collabv1.VisibilityPrivate)
			cs.Spec.Members = []collabv1.Member{{Kind: collabv1.SubjectUser, Name: tc.name, Role: collabv1.RoleOwner}}
			sp, _, err := New(Config{ServerName: "example.org", UserIDTemplate: tc.template}).DesiredRooms(cs, chat.DesiredInput{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tc.want}, sp.Invite); diff != "" {
				t.Errorf("invited (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDesiredRoomsOwnerLevel: the ChatBackend may place Owners at another level
// below the operator's; announcement rooms follow it.
func TestDesiredRoomsOwnerLevel(t *testing.T) {
	cs := engineering(collabv1.VisibilityPrivate, collabv1.Room{Name: "news", Posting: collabv1.PostingOwners})
	sp, rooms, err := New(Config{ServerName: "example.org", OwnerLevel: 75}).DesiredRooms(cs, chat.DesiredInput{OperatorUserID: "@op:example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if got := sp.PowerLevels.Users["@alice:example.org"]; got != 75 {
		t.Errorf("owner level = %d, want 75", got)
	}
	if got := rooms[0].PowerLevels.EventsDefault; got != 75 {
		t.Errorf("announcement posting level = %d, want 75", got)
	}
	for _, ev := range []string{"m.room.power_levels", "m.room.join_rules", "m.room.history_visibility",
		"m.room.canonical_alias", "m.space.child", "m.space.parent", chat.OwnerEventType} {
		if got := rooms[0].PowerLevels.Events[ev]; got <= 75 || got != LevelOperator {
			t.Errorf("%s needs level %d, want the operator's %d: no person may define a room", ev, got, LevelOperator)
		}
	}
}

// TestAliasesAreUnambiguous: every (namespace, space, room) has its own alias,
// including the pairs the previous scheme mixed up.
func TestAliasesAreUnambiguous(t *testing.T) {
	type key struct{ ns, space, room string }
	keys := []key{
		{"a", "eng", "general-x"}, {"a", "eng-general", "x"}, {"b", "eng", "general-x"},
		{"a", "eng", ""}, {"a-eng", "general", ""}, {"a", "eng-general", ""}, {"b", "eng", ""},
	}
	seen := map[string]key{}
	for _, k := range keys {
		alias := SpaceAlias(k.ns, k.space)
		if k.room != "" {
			alias = RoomAlias(k.ns, k.space, k.room)
		}
		if prev, dup := seen[alias]; dup {
			t.Errorf("%+v and %+v share alias %q", prev, k, alias)
		}
		seen[alias] = k
	}
	if LegacyRoomAlias("eng", "general-x") != LegacyRoomAlias("eng-general", "x") {
		t.Error("the legacy scheme was ambiguous; this test documents why it was replaced")
	}
}

func TestDesiredDirectory(t *testing.T) {
	got := DesiredDirectory("company-matrix", "example.org", collabv1.DirectorySpace{Name: "Acme"}, "@op:x", []string{"!b:x", "!a:x"})
	want := chat.RoomSpec{AliasLocalpart: "directory", CanonicalAlias: "#directory:example.org", Name: "Acme", Space: true, JoinRule: chat.JoinRulePublic,
		Published: true, WorldReadable: true, PowerLevels: powerLevels(nil, "@op:x", 100), Owner: "ChatBackend/company-matrix",
		Children: []string{"!a:x", "!b:x"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
	if empty := DesiredDirectory("b", "x", collabv1.DirectorySpace{Name: "Acme"}, "@op:x", nil); empty.Children == nil {
		t.Error("with no open spaces the directory's children must be managed (empty, not nil), so pruning empties it")
	}
}
