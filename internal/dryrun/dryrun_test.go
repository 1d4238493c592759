package dryrun

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	clientfake "sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/opencommons/collab-operator/internal/chat"
	chatfake "github.com/opencommons/collab-operator/internal/chat/fake"
	"github.com/opencommons/collab-operator/internal/forum"
)

// The fake's write methods are left unset: called, they would fail the pass.
func readOnlyChat() *chatfake.Client {
	return &chatfake.Client{
		ObserveFn: func(_ context.Context, lp string) (*chat.ObservedRoom, error) {
			if lp == "eng" {
				return &chat.ObservedRoom{RoomID: "!space:x", Alias: "#eng:x"}, nil
			}
			return nil, nil
		},
		WhoamiFn: func(context.Context) (string, error) { return "@op:x", nil },
	}
}

func TestChatRecordsWritesAndSendsNone(t *testing.T) {
	ctx := context.Background()
	rec := &Recorder{}
	c := NewChat(readOnlyChat(), "x", rec)
	space, err := c.Observe(ctx, "eng")
	if err != nil || space == nil {
		t.Fatalf("Observe = %v, %v", space, err)
	}
	room, err := c.Create(ctx, chat.RoomSpec{AliasLocalpart: "eng-general", Name: "general", JoinRule: chat.JoinRuleInvite,
		Invite: []string{"@a:x", "@op:x"}, PowerLevels: chat.PowerLevels{Users: map[string]int{"@a:x": 50}}, Parent: "!space:x"})
	if err != nil {
		t.Fatal(err)
	}
	wantRoom := &chat.ObservedRoom{
		RoomID: "(new) #eng-general:x", Alias: "#eng-general:x", Name: "general", JoinRule: chat.JoinRuleInvite,
		Creator: "@op:x", OwnerSender: "@op:x", CanonicalAlias: "#eng-general:x",
		PowerLevels: chat.PowerLevels{Users: map[string]int{"@a:x": 50, "@op:x": 100}},
		Members:     map[string]chat.Membership{"@op:x": chat.MembershipJoin, "@a:x": chat.MembershipInvite},
		Declined:    map[string]bool{}, Children: map[string]bool{}, Parents: map[string]bool{"!space:x": true},
	}
	if diff := cmp.Diff(wantRoom, room); diff != "" {
		t.Errorf("created room (-want +got):\n%s", diff)
	}
	err = c.Update(ctx, space.RoomID, []chat.Action{chat.AddChild{RoomID: room.RoomID}, chat.Kick{UserID: "@b:x"},
		chat.SetTopic{Topic: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Archive(ctx, "!old:x", space.RoomID); err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Backend: "chat", Verb: "create", Target: "#eng-general:x",
			Detail: `room "general", join rule invite, inviting @a:x, @op:x`},
		{Backend: "chat", Verb: "link", Target: "#eng:x", Object: "#eng-general:x", Detail: "add child room #eng-general:x"},
		{Backend: "chat", Verb: "remove", Target: "#eng:x", Object: "@b:x", Detail: "remove @b:x"},
		{Backend: "chat", Verb: "set-topic", Target: "#eng:x", Detail: `set topic to "t"`},
		{Backend: "chat", Verb: "archive", Target: "!old:x",
			Detail: "rename to [archived] …, invite only, read only, history kept, unlinked from #eng:x"},
	}
	if diff := cmp.Diff(want, rec.Changes()); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestKubeClientRecordsWritesAndSendsNone(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	live := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "members", Namespace: "eng"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "viewer"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "alice"}, {Kind: "User", Name: "carol"}},
	}
	base := clientfake.NewClientBuilder().WithScheme(scheme).WithObjects(live.DeepCopy()).Build()
	rec := &Recorder{}
	c := NewKubeClient(base, rec)

	changed := live.DeepCopy()
	changed.Subjects = []rbacv1.Subject{{Kind: "User", Name: "carol"}, {Kind: "User", Name: "bob"}}
	if err := c.Update(ctx, changed); err != nil {
		t.Fatal(err)
	}
	owners := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "owners", Namespace: "eng"},
		RoleRef: rbacv1.RoleRef{Name: "owner"}, Subjects: []rbacv1.Subject{{Kind: "User", Name: "dave"}}}
	if err := c.Create(ctx, owners); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: "eng"}}); err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Backend: "kubernetes", Verb: "update", Target: "RoleBinding eng/members", Detail: "add User bob; remove User alice"},
		{Backend: "kubernetes", Verb: "create", Target: "RoleBinding eng/owners", Detail: "role owner to User dave"},
		{Backend: "kubernetes", Verb: "delete", Target: "Role eng/old"},
	}
	if diff := cmp.Diff(want, rec.Changes()); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	got := &rbacv1.RoleBinding{}
	if err := base.Get(ctx, client.ObjectKeyFromObject(live), got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(live.Subjects, got.Subjects); diff != "" {
		t.Errorf("the live binding changed (-want +got):\n%s", diff)
	}
	if err := base.Get(ctx, client.ObjectKeyFromObject(owners), &rbacv1.RoleBinding{}); err == nil {
		t.Errorf("the created binding reached the cluster")
	}
}

var samplePlans = []Plan{
	{Space: "eng/engineering", Changes: []Change{
		{Backend: "kubernetes", Verb: "update", Target: "RoleBinding eng/collab-engineering-members", Detail: "add User bob"},
		{Backend: "chat", Verb: "set-topic", Target: "#engineering-general:x", Detail: `set topic to "a|b"`},
		{Backend: "chat", Verb: "archive", Target: "#engineering-old:x"},
	}},
	{Space: "mkt/marketing", New: true, Notes: []string{"WorkloadsProgressing: waiting"}},
}

func TestRenderers(t *testing.T) {
	cases := map[string]struct {
		write func(*bytes.Buffer, []Plan) error
		want  string
	}{
		"text": {
			write: func(b *bytes.Buffer, p []Plan) error { return WriteText(b, p) },
			want: `CollaborationSpace eng/engineering
  ~ kubernetes update       RoleBinding eng/collab-engineering-members: add User bob
  ~ chat       set-topic    #engineering-general:x: set topic to "a|b"
  ! chat       archive      #engineering-old:x

CollaborationSpace mkt/marketing (new)
  no changes
  note: WorkloadsProgressing: waiting

3 changes in 2 spaces.
`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b, samplePlans); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSONRoundTrips(t *testing.T) {
	var b bytes.Buffer
	plans := append([]Plan(nil), samplePlans...)
	if err := WriteJSON(&b, plans); err != nil {
		t.Fatal(err)
	}
	var got []Plan
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := append([]Plan(nil), samplePlans...)
	want[1].Changes = []Change{} // "changes": [] rather than null
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !strings.Contains(b.String(), `"changes": []`) {
		t.Errorf("a plan without changes should say \"changes\": [], got\n%s", b.String())
	}
	if !HasChanges(plans) || HasChanges(plans[1:]) {
		t.Errorf("HasChanges is wrong")
	}
}

func TestForumSumsUpPrivilegesPerGroup(t *testing.T) {
	rec := &Recorder{}
	f := NewForum(nil, "forum eng/engineering", rec)
	f.categories[7] = "RFCs"
	err := f.UpdateCategory(context.Background(), 7, []forum.CategoryAction{
		forum.Grant{Group: "members", Privilege: "read"},
		forum.Grant{Group: "owners", Privilege: "read"},
		forum.Grant{Group: "members", Privilege: "topics:create"},
		forum.Revoke{Group: "guests", Privilege: "read"},
		forum.SetDisabled{Disabled: false},
	})
	if err != nil {
		t.Fatal(err)
	}
	target := `category "RFCs" on forum eng/engineering`
	want := []Change{
		{Backend: "forum", Verb: "enable", Target: target, Detail: forum.SetDisabled{Disabled: false}.String()},
		{Backend: "forum", Verb: "grant", Target: target, Object: "members", Detail: "members {read, topics:create}"},
		{Backend: "forum", Verb: "grant", Target: target, Object: "owners", Detail: "owners {read}"},
		{Backend: "forum", Verb: "revoke", Target: target, Object: "guests", Detail: "guests {read}"},
	}
	if diff := cmp.Diff(want, rec.Changes()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
