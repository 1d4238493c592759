package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	nodebbplan "github.com/opencommons/collab-operator/internal/forum/nodebb/plan"
	"github.com/opencommons/collab-operator/internal/testing/slapd"
)

// The directory tests run a real slapd per test, seeded with an organisation
// whose people also exist on Dendrite, a PeopleDirectory on it and a ChatBackend
// that names the directory.

const orgSuffix = slapd.DefaultSuffix

func ldapPerson(uid string) string {
	return fmt.Sprintf("dn: uid=%[1]s,ou=people,%[2]s\nobjectClass: inetOrgPerson\nuid: %[1]s\ncn: %[1]s\nsn: %[1]s\nmail: %[1]s@example.org\n\n", uid, orgSuffix)
}

func ldapGroup(cn string, members ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: cn=%s,ou=groups,%s\nobjectClass: groupOfNames\ncn: %s\n", cn, orgSuffix, cn)
	for _, m := range members {
		fmt.Fprintf(&b, "member: %s\n", m)
	}
	return b.String() + "\n"
}

func personDN(uid string) string { return "uid=" + uid + ",ou=people," + orgSuffix }
func groupDN(cn string) string   { return "cn=" + cn + ",ou=groups," + orgSuffix }

// org is the test organisation: engineering holds alice and the nested group
// platform (bob); eng-leads holds dave; carol and erin are in no group.
type org struct {
	ldap    *slapd.Server
	dir     string // PeopleDirectory
	backend string // ChatBackend naming it
}

// startOrg starts slapd with the organisation plus extra LDIF, and makes a
// PeopleDirectory polling it every second and a ChatBackend that names it.
func startOrg(t *testing.T, name, extra string) *org {
	t.Helper()
	ctx := context.Background()
	var seed strings.Builder
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin"} {
		seed.WriteString(ldapPerson(u))
	}
	seed.WriteString(ldapGroup("engineering", personDN("alice"), groupDN("platform")))
	seed.WriteString(ldapGroup("platform", personDN("bob")))
	seed.WriteString(ldapGroup("eng-leads", personDN("dave")))
	seed.WriteString(extra)
	s, err := slapd.Start(ctx, slapd.Options{Seed: seed.String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	o := &org{ldap: s, dir: name, backend: name}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-bind", Namespace: operatorNamespace},
		Data:       map[string][]byte{"bindDN": []byte(s.ReaderDN), "password": []byte(s.ReaderPassword)},
	}
	mustCreate(t, secret)
	mustCreate(t, &collabv1.PeopleDirectory{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: collabv1.PeopleDirectorySpec{
			LDAP: &collabv1.LDAPDirectory{URL: s.URL, TLS: collabv1.LDAPTLSNone,
				BindSecretRef: &collabv1.SecretReference{Name: secret.Name},
				UserBaseDN:    "ou=people," + orgSuffix, GroupBaseDN: "ou=groups," + orgSuffix,
				Timeout: metav1.Duration{Duration: 2 * time.Second}},
			PollInterval: metav1.Duration{Duration: time.Second},
		},
	})
	backend := &collabv1.ChatBackend{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: testBackend}, backend); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{HomeserverURL: backend.Spec.Matrix.HomeserverURL,
				ServerName: backend.Spec.Matrix.ServerName, CredentialsSecretRef: backend.Spec.Matrix.CredentialsSecretRef},
			PollInterval: metav1.Duration{Duration: testPollInterval},
			DirectoryRef: &collabv1.LocalObjectReference{Name: name},
		},
	})
	return o
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8sClient.Create(context.Background(), obj); err != nil {
		t.Fatalf("cannot create %T %s: %v", obj, obj.GetName(), err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), obj) })
}

// groupSpace is a space whose members are groups: eng-leads own it, engineering
// are its members.
func groupSpace(ns, name, backend string, policy collabv1.MemberPolicy, extra ...collabv1.Member) *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: "Engineering", Visibility: collabv1.VisibilityDepartment, MemberPolicy: policy,
			Members: append([]collabv1.Member{
				{Kind: collabv1.SubjectGroup, Name: "eng-leads", Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectGroup, Name: "engineering", Role: collabv1.RoleMember},
			}, extra...),
			Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: backend},
				Rooms: []collabv1.Room{{Name: "general"}}},
		},
	}
}

// createGroupSpace creates a space and deletes it when the test ends, before
// its backend and directory go.
func createGroupSpace(t *testing.T, space *collabv1.CollaborationSpace) {
	t.Helper()
	createSpace(t, space)
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), space) })
}

func userID(name string) string { return "@" + name + ":" + homeserver.ServerName }

// membership returns a user's membership of a room as the operator sees it.
func membership(t *testing.T, room, name string) string {
	t.Helper()
	m, err := operator.Members(context.Background(), room)
	if err != nil {
		t.Fatalf("cannot read the members of %s: %v", room, err)
	}
	return m[userID(name)]
}

func membersReady(space *collabv1.CollaborationSpace) *metav1.Condition {
	return meta.FindStatusCondition(space.Status.Conditions, collabv1.MembersReadyCondition)
}

// A Group member's people reach chat: the owners' group at the owners' level,
// the members' group, nested groups included, able to join the Department room;
// someone in no group is still refused.
func TestGroupMembersJoinTheirDepartmentRoom(t *testing.T) {
	ctx := testCtx(t)
	o := startOrg(t, "org-join", "")
	ns := newNamespace(t)
	space := groupSpace(ns, "eng", o.backend, collabv1.MemberPolicyAdditive)
	createGroupSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	eventually(t, "members resolved", func() (bool, string) {
		space = getSpace(t, space)
		c := membersReady(space)
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprintf("%+v %+v", c, space.Status.Members)
	})
	st := space.Status.Members
	if st.Directory != o.dir || !slices.Equal(st.Owners, []string{"dave"}) || !slices.Equal(st.Members, []string{"alice", "bob"}) {
		t.Fatalf("status.members = %+v, want dave owning and alice and bob (through platform) members", st)
	}
	general := roomID(t, space, "general")
	for _, name := range []string{"alice", "bob", "dave"} {
		if err := joinFromSpace(ctx, person(t, name), space, general); err != nil {
			t.Errorf("%s cannot join the Department room of their group: %v", name, err)
		}
	}
	var pl struct {
		Users map[string]int `json:"users"`
	}
	if err := operator.State(ctx, general, "m.room.power_levels", &pl); err != nil {
		t.Fatal(err)
	}
	if pl.Users[userID("dave")] != 90 {
		t.Errorf("dave, of the owners' group, has power level %d, want 90", pl.Users[userID("dave")])
	}
	carol := person(t, "carol")
	refusedJoin(t, ctx, carol, general, carol.Join(ctx, general))
}

// Adding a person to the LDAP group invites them within a poll; removing them
// under Authoritative removes them. The latencies are logged; docs/directory.md
// records them.
func TestDirectoryChangesReachChat(t *testing.T) {
	o := startOrg(t, "org-change", "")
	ns := newNamespace(t)
	space := groupSpace(ns, "eng", o.backend, collabv1.MemberPolicyAuthoritative)
	createGroupSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	// People are invited to the department's space, which offers its rooms.
	invitedTo := space.Status.Chat.SpaceID

	var adds, removes []time.Duration
	for i := 0; i < propagationRuns(); i++ {
		start := time.Now()
		if err := o.ldap.AddMember(groupDN("engineering"), "member", personDN("carol")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "carol invited", func() (bool, string) {
			m := membership(t, invitedTo, "carol")
			return m == "invite" || m == "join", "carol is " + m
		})
		adds = append(adds, time.Since(start))
		start = time.Now()
		if err := o.ldap.RemoveMember(groupDN("engineering"), "member", personDN("carol")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "carol removed", func() (bool, string) {
			m := membership(t, invitedTo, "carol")
			return m == "leave", "carol is " + m
		})
		removes = append(removes, time.Since(start))
	}
	t.Logf("directory poll 1s: add→invite %s; remove→kick %s", percentiles(adds), percentiles(removes))
	if c := membersReady(getSpace(t, space)); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("MembersReady = %+v after the changes, want True", c)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func propagationRuns() int {
	var n int
	if _, err := fmt.Sscan(cmpOr(os.Getenv("DIRECTORY_PROPAGATION_RUNS"), "2"), &n); err != nil || n < 1 {
		return 2
	}
	return n
}

func percentiles(d []time.Duration) string {
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	p := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return fmt.Sprintf("p50 %s p99 %s (n=%d)", p(0.5).Round(time.Millisecond), p(0.99).Round(time.Millisecond), len(s))
}

// A directory that is down, and then a group that disappears from it, remove
// nobody, even under Authoritative: the space keeps its last resolved members.
func TestDirectoryOutageRemovesNobody(t *testing.T) {
	o := startOrg(t, "org-outage", "")
	ns := newNamespace(t)
	space := groupSpace(ns, "eng", o.backend, collabv1.MemberPolicyAuthoritative)
	createGroupSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	// People are invited to the department's space, which offers its rooms.
	invitedTo := space.Status.Chat.SpaceID
	stillThere := func(when string) {
		t.Helper()
		for _, name := range []string{"alice", "bob", "dave"} {
			if m := membership(t, invitedTo, name); m != "invite" && m != "join" {
				t.Errorf("%s: %s is %q, want still invited", when, name, m)
			}
		}
	}
	// Ready does not wait for the directory (MembersReady is apart from it).
	eventually(t, "the groups' people invited", func() (bool, string) {
		for _, name := range []string{"alice", "bob", "dave"} {
			if m := membership(t, invitedTo, name); m != "invite" && m != "join" {
				return false, name + " is " + m
			}
		}
		return true, ""
	})

	if err := o.ldap.Kill(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the directory to report the outage", func() (bool, string) {
		d := &collabv1.PeopleDirectory{}
		_ = k8sClient.Get(context.Background(), client.ObjectKey{Name: o.dir}, d)
		c := meta.FindStatusCondition(d.Status.Conditions, collabv1.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == collabv1.ReasonDirectoryUnavailable, fmt.Sprintf("%+v", c)
	})
	eventually(t, "the space to say it keeps its members", func() (bool, string) {
		c := membersReady(getSpace(t, space))
		return c != nil && c.Reason == collabv1.ReasonDirectoryUnavailable, fmt.Sprintf("%+v", c)
	})
	time.Sleep(3 * testPollInterval) // chat passes run meanwhile
	stillThere("during the outage")

	if err := o.ldap.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The members' group vanishes from the directory by mistake.
	conn, err := o.ldap.Admin()
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Del(ldap.NewDelRequest(groupDN("engineering"), nil)); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	eventually(t, "the missing group to be reported", func() (bool, string) {
		s := getSpace(t, space)
		return s.Status.Members != nil && slices.Equal(s.Status.Members.GroupsNotFound, []string{"engineering"}),
			fmt.Sprintf("%+v", s.Status.Members)
	})
	time.Sleep(3 * testPollInterval)
	stillThere("after the group vanished")
}

// Authoritative removals of 20 people with a budget of 5 per hour: exactly 5
// leave, MembersReady says why, and the approval annotation lets the rest go.
func TestRemovalBudgetHoldsAndApprovalReleases(t *testing.T) {
	ctx := testCtx(t)
	var extra strings.Builder
	var crowd []string
	for i := 1; i <= 20; i++ {
		name := fmt.Sprintf("crowd%02d", i)
		if _, err := register(ctx, name, false); err != nil && !strings.Contains(err.Error(), "M_USER_IN_USE") {
			t.Fatal(err)
		}
		extra.WriteString(ldapPerson(name))
		crowd = append(crowd, personDN(name))
	}
	extra.WriteString(ldapGroup("crowd", append(crowd, personDN("dave"))...))
	o := startOrg(t, "org-budget", extra.String())
	ns := newNamespace(t)
	space := groupSpace(ns, "eng", o.backend, collabv1.MemberPolicyAuthoritative,
		collabv1.Member{Kind: collabv1.SubjectGroup, Name: "crowd"})
	createGroupSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	// People are invited to the department's space, which offers its rooms.
	invitedTo := space.Status.Chat.SpaceID
	inRoom := func() int {
		m, err := operator.Members(context.Background(), invitedTo)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for u, ms := range m {
			if strings.HasPrefix(u, "@crowd") && (ms == "invite" || ms == "join") {
				n++
			}
		}
		return n
	}
	eventually(t, "the crowd invited", func() (bool, string) { n := inRoom(); return n == 20, fmt.Sprint(n) })

	// The crowd leaves the group (dave stays, so the group is not empty).
	req := ldap.NewModifyRequest(groupDN("crowd"), nil)
	req.Replace("member", []string{personDN("dave")})
	if err := o.ldap.Modify(req); err != nil {
		t.Fatal(err)
	}
	var held *collabv1.HeldRemovals
	eventually(t, "removals to be held", func() (bool, string) {
		s := getSpace(t, space)
		c := membersReady(s)
		if c == nil || c.Reason != collabv1.ReasonRemovalsCapped || s.Status.Members.Held == nil {
			return false, fmt.Sprintf("%+v; members %+v; %d of the crowd in the room", c, s.Status.Members, inRoom())
		}
		held = s.Status.Members.Held
		return true, ""
	})
	time.Sleep(2 * testPollInterval) // later passes must not remove more
	if n := inRoom(); n != 15 {
		t.Fatalf("%d of the crowd are left in the room, want 15: exactly 5 removed within the hour", n)
	}
	if held.Count != 15 || len(held.Accounts) != 15 {
		t.Fatalf("held = %+v, want 15", held)
	}
	s := getSpace(t, space)
	if got := len(s.Status.Members.Removals); got == 0 {
		t.Fatalf("no removal recorded in status: %+v", s.Status.Members)
	}

	patch := client.MergeFrom(s.DeepCopy())
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[collabv1.ApproveRemovalsAnnotation] = held.Digest
	if err := k8sClient.Patch(ctx, s, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the approved removals", func() (bool, string) { n := inRoom(); return n == 0, fmt.Sprint(n) })
	eventually(t, "MembersReady to clear", func() (bool, string) {
		c := membersReady(getSpace(t, space))
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprintf("%+v", c)
	})
}

// A tenant's group name cannot widen the directory's filter to pull the whole
// organisation into its space; it is reported as not found.
func TestHostileGroupNamesResolveToNobody(t *testing.T) {
	o := startOrg(t, "org-hostile", "")
	ns := newNamespace(t)
	space := groupSpace(ns, "eng", o.backend, collabv1.MemberPolicyAdditive,
		collabv1.Member{Kind: collabv1.SubjectGroup, Name: "*"},
		collabv1.Member{Kind: collabv1.SubjectGroup, Name: "x)(|(cn=*"})
	createGroupSpace(t, space)
	waitReady(t, client.ObjectKeyFromObject(space))
	eventually(t, "the hostile names reported", func() (bool, string) {
		st := getSpace(t, space).Status.Members
		return st != nil && slices.Equal(st.GroupsNotFound, []string{"*", "x)(|(cn=*"}), fmt.Sprintf("%+v", st)
	})
	st := getSpace(t, space).Status.Members
	if got := append(append(slices.Clone(st.Owners), st.Moderators...), st.Members...); len(got) != 3 {
		t.Errorf("people = %v, want only dave, alice and bob", got)
	}
}

// A refused bind is reported on the directory, and the bind password appears in
// no status, condition or event; a bind Secret outside the credentials namespace
// is refused before it is read.
func TestBindCredentialsStayHidden(t *testing.T) {
	const password = "s3cret-bind-password-do-not-print"
	s, err := slapd.Start(context.Background(), slapd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	mustCreate(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "wrong-bind", Namespace: operatorNamespace},
		Data:       map[string][]byte{"bindDN": []byte(s.ReaderDN), "password": []byte(password)},
	})
	ns := newNamespace(t)
	mustCreate(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant-bind", Namespace: ns},
		Data:       map[string][]byte{"bindDN": []byte(s.ReaderDN), "password": []byte(password)},
	})
	spec := func(ref collabv1.SecretReference) collabv1.PeopleDirectorySpec {
		return collabv1.PeopleDirectorySpec{LDAP: &collabv1.LDAPDirectory{URL: s.URL, TLS: collabv1.LDAPTLSNone,
			BindSecretRef: &ref, UserBaseDN: "ou=people," + orgSuffix, GroupBaseDN: "ou=groups," + orgSuffix}}
	}
	mustCreate(t, &collabv1.PeopleDirectory{ObjectMeta: metav1.ObjectMeta{Name: "wrong-bind"},
		Spec: spec(collabv1.SecretReference{Name: "wrong-bind"})})
	mustCreate(t, &collabv1.PeopleDirectory{ObjectMeta: metav1.ObjectMeta{Name: "tenant-bind"},
		Spec: spec(collabv1.SecretReference{Namespace: ns, Name: "tenant-bind"})})
	for name, reason := range map[string]string{"wrong-bind": collabv1.ReasonBindRejected, "tenant-bind": collabv1.ReasonCredentialsNamespaceForbidden} {
		d := &collabv1.PeopleDirectory{}
		eventually(t, name+" to report "+reason, func() (bool, string) {
			_ = k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, d)
			c := meta.FindStatusCondition(d.Status.Conditions, collabv1.ReadyCondition)
			return c != nil && c.Reason == reason, fmt.Sprintf("%+v", c)
		})
		b, _ := json.Marshal(d.Status)
		if strings.Contains(string(b), password) || strings.Contains(string(b), s.ReaderDN) {
			t.Errorf("%s's status quotes the bind credentials: %s", name, b)
		}
	}
	if got := secretRequests.in(ns); len(got) > 0 {
		t.Error("the operator read a bind Secret outside the credentials namespace")
	}
	var evs eventsv1.EventList
	if err := k8sClient.List(context.Background(), &evs); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		if strings.Contains(e.Note, password) {
			t.Errorf("event %s/%s quotes the bind password", e.Namespace, e.Name)
		}
	}
}

// A static directory needs no server: groups listed in YAML reach chat.
func TestStaticDirectory(t *testing.T) {
	name := "org-static"
	mustCreate(t, &collabv1.PeopleDirectory{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: collabv1.PeopleDirectorySpec{
			Static: &collabv1.StaticDirectory{
				People: []collabv1.StaticPerson{{Username: "alice"}, {Username: "bob"}, {Username: "dave"}},
				Groups: []collabv1.StaticGroup{
					{Name: "eng-leads", Members: []string{"dave"}},
					{Name: "engineering", Members: []string{"alice"}, Groups: []string{"platform"}},
					{Name: "platform", Members: []string{"bob"}, Groups: []string{"engineering"}},
				},
			},
			PollInterval: metav1.Duration{Duration: time.Second},
		}})
	backend := &collabv1.ChatBackend{}
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: testBackend}, backend); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, &collabv1.ChatBackend{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: collabv1.ChatBackendSpec{Matrix: &collabv1.MatrixBackend{HomeserverURL: backend.Spec.Matrix.HomeserverURL,
			ServerName: backend.Spec.Matrix.ServerName, CredentialsSecretRef: backend.Spec.Matrix.CredentialsSecretRef},
			PollInterval: metav1.Duration{Duration: testPollInterval}, DirectoryRef: &collabv1.LocalObjectReference{Name: name}}})
	ns := newNamespace(t)
	space := groupSpace(ns, "eng", name, collabv1.MemberPolicyAdditive)
	createGroupSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	eventually(t, "bob invited through the nested static group", func() (bool, string) {
		space = getSpace(t, space)
		if space.Status.Chat == nil {
			return false, "no chat status"
		}
		m := membership(t, space.Status.Chat.SpaceID, "bob")
		return m == "invite", "bob is " + m
	})
}

// TestForumAccountsAreFoundByEmail: a person whose forum account has another name
// than the directory's is found by the e-mail address the directory gives, and
// joins the department's forum group under the forum's name.
func TestForumAccountsAreFoundByEmail(t *testing.T) {
	name := "org-email"
	mustCreate(t, &collabv1.PeopleDirectory{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: collabv1.PeopleDirectorySpec{
			Static: &collabv1.StaticDirectory{
				People: []collabv1.StaticPerson{{Username: "wendy", Email: "wendy@corp.example"}, {Username: "vic"}},
				Groups: []collabv1.StaticGroup{{Name: "writers", Members: []string{"wendy", "vic"}}},
			},
			PollInterval: metav1.Duration{Duration: time.Second},
		}})
	forumServer.AddUserWithEmail("wendy.w", "wendy@corp.example")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-credentials", Namespace: operatorNamespace},
		Data: map[string][]byte{"token": []byte(forumToken), "uid": []byte("1")}}
	mustCreate(t, secret)
	mustCreate(t, &collabv1.ForumBackend{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: collabv1.ForumBackendSpec{NodeBB: &collabv1.NodeBBBackend{URL: forumAPI,
			CredentialsSecretRef: collabv1.SecretReference{Name: secret.Name}},
			DirectoryRef: &collabv1.LocalObjectReference{Name: name}}})
	forumServer.AddUser("lead")
	space := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "writers", Namespace: newNamespace(t)},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: "Writers",
			Members: []collabv1.Member{{Kind: collabv1.SubjectUser, Name: "lead", Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectGroup, Name: "writers"}},
			Forum: &collabv1.ForumSpec{BackendRef: &collabv1.LocalObjectReference{Name: name},
				Categories: []collabv1.Category{{Name: "Drafts"}}},
		},
	}
	createSpace(t, space)
	eventually(t, "wendy in the members group under her forum name", func() (bool, string) {
		got := getSpace(t, space)
		if got.Status.Forum == nil || len(got.Status.Forum.Groups) != 3 {
			return false, fmt.Sprintf("forum status %+v", got.Status.Forum)
		}
		g, err := forumClient(t).ObserveGroup(context.Background(), nodebbplan.GroupNamesFor(got, true).Members)
		if err != nil || g == nil {
			return false, fmt.Sprint(err)
		}
		return g.HasMember("wendy.w"), fmt.Sprintf("members %+v", g.Members)
	})
	eventually(t, "vic, with no account at all, counted", func() (bool, string) {
		got := getSpace(t, space)
		return got.Status.Members != nil && got.Status.Members.WithoutForumAccount == 1,
			fmt.Sprintf("%+v", got.Status.Members)
	})
}
