package slapd

import (
	"context"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestStartSeedsAndLimitsTheReader(t *testing.T) {
	s, err := Start(context.Background(), Options{Seed: `dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: A
`})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Stop() }()
	c, err := s.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Bind(s.ReaderDN, s.ReaderPassword); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(ldap.NewSearchRequest("ou=people,"+s.Suffix, ldap.ScopeSingleLevel, ldap.NeverDerefAliases,
		0, 0, false, "(uid=alice)", []string{"cn"}, nil))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("cn") != "Alice" {
		t.Fatalf("search for alice = %+v, %v", res, err)
	}
	if err := c.Bind(s.ReaderDN, "wrong"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("bind with a wrong password = %v, want invalid credentials", err)
	}
}
