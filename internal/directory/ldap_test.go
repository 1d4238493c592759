package directory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/slapd"
)

const sfx = "dc=example,dc=org"

func person(uid string) string {
	return fmt.Sprintf("dn: uid=%[1]s,ou=people,%[2]s\nobjectClass: inetOrgPerson\nuid: %[1]s\ncn: %[1]s\nsn: %[1]s\nmail: %[1]s@example.org\n\n", uid, sfx)
}

func group(cn string, members ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: cn=%s,ou=groups,%s\nobjectClass: groupOfNames\ncn: %s\n", ldap.EscapeDN(cn), sfx, cn)
	for _, m := range members {
		fmt.Fprintf(&b, "member: %s\n", m)
	}
	return b.String() + "\n"
}

func uidDN(uid string) string { return "uid=" + uid + ",ou=people," + sfx }
func cnDN(cn string) string   { return "cn=" + ldap.EscapeDN(cn) + ",ou=groups," + sfx }

// organisation: engineering holds alice and the platform group, platform holds
// bob and engineering again (a cycle); leads holds dave; "r&d (lab)" has a name
// full of filter characters; staff is a posixGroup by usernames.
func organisation() string {
	var b strings.Builder
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin"} {
		b.WriteString(person(u))
	}
	b.WriteString(group("engineering", uidDN("alice"), cnDN("platform")))
	b.WriteString(group("platform", uidDN("bob"), cnDN("engineering")))
	b.WriteString(group("leads", uidDN("dave")))
	b.WriteString(group("r&d (lab)", uidDN("erin")))
	fmt.Fprintf(&b, "dn: cn=staff,ou=groups,%s\nobjectClass: posixGroup\ncn: staff\ngidNumber: 1000\nmemberUid: carol\nmemberUid: nobody\n\n", sfx)
	return b.String()
}

var shared *slapd.Server

func TestMain(m *testing.M) {
	var err error
	shared, err = slapd.Start(context.Background(), slapd.Options{Seed: organisation()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = shared.Stop()
	os.Exit(code)
}

func source(t *testing.T, s *slapd.Server, mutate ...func(*LDAPConfig)) *LDAPSource {
	t.Helper()
	cfg := LDAPConfig{
		Spec: collabv1.LDAPDirectory{URL: s.URL, TLS: collabv1.LDAPTLSNone,
			UserBaseDN: "ou=people," + sfx, GroupBaseDN: "ou=groups," + sfx},
		BindDN: s.ReaderDN, Password: s.ReaderPassword,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	src, err := NewLDAP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src
}

func usernames(g Group) []string {
	var out []string
	for _, p := range g.People {
		out = append(out, p.Username)
	}
	return out
}

func TestResolveNestedGroupsAndCycles(t *testing.T) {
	src := source(t, shared)
	got, err := src.Resolve(context.Background(), []string{"engineering", "platform", "leads", "ENGINEERING", "ghosts"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"engineering": {"alice", "bob"}, // bob through platform, which names engineering back
		"platform":    {"alice", "bob"},
		"leads":       {"dave"},
		"ENGINEERING": {"alice", "bob"}, // names compare as the directory does, case-insensitively
		"ghosts":      nil,
	}
	for name, people := range want {
		if diff := cmp.Diff(people, usernames(got[name])); diff != "" {
			t.Errorf("group %s (-want +got):\n%s", name, diff)
		}
	}
	if got["ghosts"].Found || !got["leads"].Found {
		t.Errorf("found: ghosts %v, leads %v; want false, true", got["ghosts"].Found, got["leads"].Found)
	}
	if got["engineering"].People[0].Email != "alice@example.org" {
		t.Errorf("alice's email = %q", got["engineering"].People[0].Email)
	}
}

func TestNestedGroupsCanBeTurnedOff(t *testing.T) {
	off := false
	src := source(t, shared, func(c *LDAPConfig) { c.Spec.NestedGroups = &off })
	got, err := src.Resolve(context.Background(), []string{"engineering"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"alice"}, usernames(got["engineering"])); diff != "" {
		t.Errorf("engineering without nesting (-want +got):\n%s", diff)
	}
}

// A Group member's name is a tenant's input. Escaped into the filter, a name that
// tries to widen the search finds nothing, and a real name full of filter
// characters finds exactly its group.
func TestGroupNamesCannotInjectFilters(t *testing.T) {
	src := source(t, shared)
	hostile := []string{"*", "eng*", "engineering)(cn=*", "x)(|(cn=*", "*)(objectClass=*", `\2a`, "leads)(|(cn=leads"}
	got, err := src.Resolve(context.Background(), append(hostile, "r&d (lab)"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range hostile {
		if g := got[name]; g.Found || len(g.People) > 0 {
			t.Errorf("group %q resolved to %v: the name widened the filter", name, usernames(g))
		}
	}
	if diff := cmp.Diff([]string{"erin"}, usernames(got["r&d (lab)"])); diff != "" {
		t.Errorf("r&d (lab) (-want +got):\n%s", diff)
	}
}

func TestPosixGroupsByUsername(t *testing.T) {
	src := source(t, shared, func(c *LDAPConfig) {
		c.Spec.GroupFilter = "(objectClass=posixGroup)"
		c.Spec.MemberAttribute = "memberUid"
		c.Spec.MemberValue = collabv1.MemberValueUsername
	})
	got, err := src.Resolve(context.Background(), []string{"staff"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"carol"}, usernames(got["staff"])); diff != "" {
		t.Errorf("staff (-want +got):\n%s", diff) // "nobody" is no person: left out
	}
}

// The reader account gets at most slapd.SizeLimit entries per search, as on a
// real directory: only paged searches read a larger one whole.
func TestPagedSearchReadsPastTheSizeLimit(t *testing.T) {
	const n = 1234
	var seed strings.Builder
	members := make([]string, 0, n)
	for i := range n {
		uid := fmt.Sprintf("p%04d", i)
		seed.WriteString(person(uid))
		members = append(members, uidDN(uid))
	}
	seed.WriteString(group("everyone", members...))
	big, err := slapd.Start(context.Background(), slapd.Options{Seed: seed.String()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = big.Stop() }()

	conn, err := big.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if err := conn.Bind(big.ReaderDN, big.ReaderPassword); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Search(ldap.NewSearchRequest("ou=people,"+sfx, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0,
		false, "(objectClass=inetOrgPerson)", []string{"uid"}, nil))
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		t.Fatalf("an unpaged search of %d people answered %v, want the size limit exceeded", n, err)
	}

	src := source(t, big, func(c *LDAPConfig) { c.Spec.PageSize = 200 })
	got, err := src.Resolve(context.Background(), []string{"everyone"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got["everyone"].People) != n {
		t.Fatalf("everyone has %d people, want %d", len(got["everyone"].People), n)
	}
}

// An unchanged directory costs one query per poll; a change moves the token.
func TestChangeTokenIsOneQueryAndMovesOnChange(t *testing.T) {
	s, err := slapd.Start(context.Background(), slapd.Options{Seed: organisation()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Stop() }()
	src := source(t, s)
	ctx := context.Background()
	first, mech, err := src.Token(ctx)
	if err != nil || first == "" || mech != "ContextCSN" {
		t.Fatalf("Token = %q, %q, %v; want a contextCSN", first, mech, err)
	}
	before := src.Queries()
	again, _, err := src.Token(ctx)
	if err != nil || again != first {
		t.Fatalf("unchanged directory: token %q then %q (%v)", first, again, err)
	}
	if q := src.Queries() - before; q != 1 {
		t.Errorf("a poll of an unchanged directory made %d queries, want 1", q)
	}
	if err := s.AddMember(cnDN("leads"), "member", uidDN("erin")); err != nil {
		t.Fatal(err)
	}
	moved, _, err := src.Token(ctx)
	if err != nil || moved == first {
		t.Fatalf("after a change the token is %q (was %q, %v)", moved, first, err)
	}
}

// A refused bind says so, and no error carries the bind DN or the password.
func TestBindRejectedNamesNoCredentials(t *testing.T) {
	const password = "hunter2-very-secret"
	src := source(t, shared, func(c *LDAPConfig) { c.Password = password })
	_, _, err := src.Token(context.Background())
	if !errors.Is(err, ErrBindRejected) {
		t.Fatalf("Token with a wrong password = %v, want ErrBindRejected", err)
	}
	_, err2 := src.Resolve(context.Background(), []string{"leads"})
	for _, e := range []error{err, err2} {
		if e == nil || strings.Contains(e.Error(), password) || strings.Contains(e.Error(), shared.ReaderDN) {
			t.Errorf("error %q quotes the bind credentials", e)
		}
	}
}

func TestUnreachableDirectory(t *testing.T) {
	s, err := slapd.Start(context.Background(), slapd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := source(t, s)
	_ = s.Stop()
	if _, err := src.Resolve(context.Background(), []string{"leads"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Resolve on a stopped directory = %v, want ErrUnavailable", err)
	}
}

func TestStartTLSAndLDAPSWithTheCA(t *testing.T) {
	ca, files, err := slapd.GenerateTLS()
	if err != nil {
		t.Fatal(err)
	}
	s, err := slapd.Start(context.Background(), slapd.Options{Seed: organisation(), TLS: files})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Stop() }()
	for name, mutate := range map[string]func(*LDAPConfig){
		"StartTLS": func(c *LDAPConfig) { c.Spec.TLS, c.Spec.CABundle = collabv1.LDAPTLSStartTLS, string(ca) },
		"LDAPS": func(c *LDAPConfig) {
			c.Spec.TLS, c.Spec.CABundle, c.Spec.URL = collabv1.LDAPTLSLDAPS, string(ca), s.LDAPSURL
		},
	} {
		got, err := source(t, s, mutate).Resolve(context.Background(), []string{"leads"})
		if err != nil || len(got["leads"].People) != 1 {
			t.Errorf("%s: leads = %v, %v", name, got["leads"], err)
		}
	}
	// Without the CA the server's certificate is not trusted.
	_, err = source(t, s, func(c *LDAPConfig) { c.Spec.TLS = collabv1.LDAPTLSStartTLS }).Resolve(context.Background(), []string{"leads"})
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("StartTLS without the CA = %v, want ErrUnavailable", err)
	}
}

func TestStaticSource(t *testing.T) {
	src := NewStatic(collabv1.StaticDirectory{
		People: []collabv1.StaticPerson{{Username: "alice"}, {Username: "bob", Email: "bob@example.org"}},
		Groups: []collabv1.StaticGroup{
			{Name: "eng", Members: []string{"alice", "mallory"}, Groups: []string{"platform"}},
			{Name: "platform", Members: []string{"bob"}, Groups: []string{"eng"}},
		},
	})
	got, err := src.Resolve(context.Background(), []string{"eng", "platform", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"alice", "bob"}, usernames(got["eng"])); diff != "" {
		t.Errorf("eng (-want +got):\n%s", diff)
	}
	if got["missing"].Found {
		t.Error("missing group found")
	}
	tok, _, _ := src.Token(context.Background())
	tok2, _, _ := NewStatic(collabv1.StaticDirectory{}).Token(context.Background())
	if tok == tok2 {
		t.Error("two different static directories have the same token")
	}
}
