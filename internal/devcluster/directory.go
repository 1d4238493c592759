package devcluster

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/slapd"
)

// devDirectory is the PeopleDirectory make dev serves from its slapd: the
// cluster's default, so every sample's Group members resolve through it.
const devDirectory = "company"

// devGroups is the sample organisation: the groups the samples name, with people
// who have Matrix accounts (devPeople). engineering nests platform.
var devGroups = []struct {
	name   string
	people []string
	nested []string
}{
	{name: "eng-leads", people: []string{"dave"}},
	{name: "engineering", people: append([]string{"bob"}, engineers...), nested: []string{"platform"}},
	{name: "platform", people: []string{"frank"}},
	{name: "marketing", people: append([]string{"erin", "bob"}, marketers...)},
	{name: "people-leads", people: []string{"carol"}},
	{name: "people-team", people: []string{"alice"}},
	{name: "design-leads", people: []string{"carol"}},
	{name: "design", people: []string{"erin"}},
	{name: "support-leads", people: []string{"dave"}},
	{name: "operations", people: []string{"bob", "frank"}},
}

// devLDIF is the organisation as LDIF below slapd.DefaultSuffix.
func devLDIF() string {
	var b strings.Builder
	sfx := slapd.DefaultSuffix
	for _, p := range devPeople() {
		fmt.Fprintf(&b, "dn: uid=%[1]s,ou=people,%[2]s\nobjectClass: inetOrgPerson\nuid: %[1]s\ncn: %[1]s\nsn: %[1]s\nmail: %[1]s@example.org\n\n", p, sfx)
	}
	for _, g := range devGroups {
		fmt.Fprintf(&b, "dn: cn=%[1]s,ou=groups,%[2]s\nobjectClass: groupOfNames\ncn: %[1]s\n", g.name, sfx)
		for _, p := range g.people {
			fmt.Fprintf(&b, "member: uid=%s,ou=people,%s\n", p, sfx)
		}
		for _, n := range g.nested {
			fmt.Fprintf(&b, "member: cn=%s,ou=groups,%s\n", n, sfx)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// startDirectory runs slapd on a loopback port with the sample organisation, and
// makes it the cluster's default PeopleDirectory through a bind Secret in the
// operator's namespace, as a platform team would.
func (e *Env) startDirectory(ctx context.Context) error {
	s, err := slapd.Start(ctx, slapd.Options{Dir: filepath.Join(e.dir, "slapd"), Seed: devLDIF()})
	if err != nil {
		return err
	}
	e.stoppers = append(e.stoppers, func() { _ = s.Stop() })
	e.ldap = s
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "company-directory-bind", Namespace: operatorNamespace},
		Data:       map[string][]byte{"bindDN": []byte(s.ReaderDN), "password": []byte(s.ReaderPassword)},
	}
	if err := e.client.Create(ctx, secret); err != nil {
		return err
	}
	return e.client.Create(ctx, &collabv1.PeopleDirectory{
		ObjectMeta: metav1.ObjectMeta{Name: devDirectory},
		Spec: collabv1.PeopleDirectorySpec{
			Default: true,
			LDAP: &collabv1.LDAPDirectory{
				URL: s.URL, TLS: collabv1.LDAPTLSNone, // loopback only
				BindSecretRef: &collabv1.SecretReference{Name: secret.Name},
				UserBaseDN:    "ou=people," + slapd.DefaultSuffix,
				GroupBaseDN:   "ou=groups," + slapd.DefaultSuffix,
			},
			PollInterval: metav1.Duration{Duration: 10 * time.Second},
		},
	})
}

// personInSpace is one person of a space, under the highest role they hold
// there, directly or through groups: the role their power level shows.
type personInSpace struct {
	name string
	role collabv1.Role
	via  string // "user", "group" or "user+group"
}

// peopleByRole lists the people of a space with Group members: those the groups
// resolved to and the User members, each once under their highest role.
func peopleByRole(s collabv1.CollaborationSpace) []personInSpace {
	byName := map[string]*personInSpace{}
	add := func(name string, role collabv1.Role, via string) {
		p, ok := byName[name]
		if !ok {
			byName[name] = &personInSpace{name: name, role: role, via: via}
			return
		}
		p.role = p.role.Higher(role)
		if !strings.Contains(p.via, via) {
			p.via = "user+group"
		}
	}
	if st := s.Status.Members; st != nil {
		for role, people := range map[collabv1.Role][]string{
			collabv1.RoleOwner: st.Owners, collabv1.RoleModerator: st.Moderators, collabv1.RoleMember: st.Members} {
			for _, name := range people {
				add(name, role, "group")
			}
		}
	}
	for _, m := range s.Spec.Members {
		if m.Kind == collabv1.SubjectUser {
			add(m.Name, m.Role.Higher(collabv1.RoleMember), "user")
		}
	}
	out := make([]personInSpace, 0, len(byName))
	for _, p := range byName {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b personInSpace) int {
		switch {
		case a.role == b.role:
			return strings.Compare(a.name, b.name)
		case a.role.Higher(b.role) == a.role:
			return -1 // Owners first
		}
		return 1
	})
	return out
}

// reportMembers prints, for each space with Group members, who they resolved to
// and where each person stands in the space's rooms, as Matrix reports it.
func (e *Env) reportMembers(ctx context.Context) {
	e.say("Group members, resolved through PeopleDirectory %s (slapd at %s), and where Matrix has them", devDirectory, e.ldap.URL)
	var spaces collabv1.CollaborationSpaceList
	if err := e.client.List(ctx, &spaces); err != nil {
		e.say("cannot list spaces: %v", err)
		return
	}
	w := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(w, "SPACE\tPERSON\tROLE\tVIA\tIN ROOMS")
	for _, s := range spaces.Items {
		st := s.Status.Members
		if st == nil {
			continue
		}
		var rooms []string
		names := map[string]string{}
		if s.Status.Chat != nil {
			rooms = append(rooms, s.Status.Chat.SpaceID)
			names[s.Status.Chat.SpaceID] = "space"
			for _, r := range s.Status.Chat.Rooms {
				rooms = append(rooms, r.RoomID)
				names[r.RoomID] = r.Name
			}
		}
		members := map[string]map[string]string{}
		for _, id := range rooms {
			if m, err := e.operator.Members(ctx, id); err == nil {
				members[id] = m
			}
		}
		for _, p := range peopleByRole(s) {
			uid := "@" + p.name + ":" + e.homeserver.ServerName
			var where []string
			for _, id := range rooms {
				if ms := members[id][uid]; ms != "" {
					where = append(where, names[id]+": "+ms)
				}
			}
			slices.Sort(where)
			_, _ = fmt.Fprintf(w, "%s/%s\t%s\t%s\t%s\t%s\n", s.Namespace, s.Name, uid, p.role, p.via, strings.Join(where, ", "))
		}
	}
	_ = w.Flush()
	e.say("Change the directory and watch it reach Matrix within a poll (10 s), e.g.:\n"+
		"    ldapmodify -x -H %s -D %s -w %s <<'EOF'\n"+
		"    dn: cn=engineering,ou=groups,%s\n    changetype: modify\n    add: member\n    member: uid=carol,ou=people,%s\n    EOF",
		e.ldap.URL, e.ldap.AdminDN, e.ldap.AdminPassword, slapd.DefaultSuffix, slapd.DefaultSuffix)
}
