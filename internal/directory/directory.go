// Package directory resolves an organisation's groups to the people in them, from
// an LDAP server (LDAPSource) or from groups listed in YAML (StaticSource).
//
// A Source is asked two things: its change token, one cheap query that changes
// whenever the directory does (OpenLDAP's contextCSN, Active Directory's
// highestCommittedUSN), and the people of a list of groups, nested groups
// included. The PeopleDirectory controller asks for the token every poll and
// resolves the groups only when it moved, so an unchanged directory costs one
// query and no writes.
//
// Everything read from a directory is data: group names asked for are escaped
// before they enter a filter, no error carries a server's message or a bind
// credential, and a cycle of nested groups ends where it closes.
package directory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
)

// Person is one person of the directory.
type Person struct {
	// Username forms the person's chat user id and forum username.
	Username string
	// Email of the person, when the directory has one.
	Email string
}

// Group is a group as resolved: found or not, and its people, nested groups
// included, sorted by username without duplicates.
type Group struct {
	Found  bool
	People []Person
}

// Digest identifies a group's people: it changes exactly when they do.
func (g Group) Digest() string {
	if !g.Found {
		return ""
	}
	h := sha256.New()
	for _, p := range g.People {
		h.Write([]byte(p.Username))
		h.Write([]byte{0})
		h.Write([]byte(p.Email))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Source is where groups and people come from.
type Source interface {
	// Token returns a value that changes whenever the directory changes, and the
	// mechanism behind it ("ContextCSN", "HighestCommittedUSN", "Static"); an
	// empty token when the source cannot tell, so every poll resolves.
	Token(ctx context.Context) (token, mechanism string, err error)
	// Resolve returns the groups of these names with their people.
	Resolve(ctx context.Context, groups []string) (map[string]Group, error)
	// Close releases the source's connection.
	Close() error
}

// ErrUnavailable wraps failures to reach the directory: it could not be dialled,
// timed out or refused a TLS handshake. Retrying may help.
var ErrUnavailable = errors.New("directory unavailable")

// ErrTooLarge wraps a directory that answered more than the operator reads in
// one pass. Like an unreachable directory, it removes nobody.
var ErrTooLarge = errors.New("the directory is larger than the operator reads")

// ErrBindRejected wraps a refused bind: the bind Secret is wrong.
var ErrBindRejected = errors.New("the directory refused the bind credentials")

// graph resolves nested groups with cycle detection: members holds each group's
// direct people, subgroups its direct member groups, both by a group key.
type graph struct {
	people    map[string][]Person
	subgroups map[string][]string
}

// resolve returns the people of key and every group below it, each group visited
// once, so a cycle (a group that contains itself through others) ends.
func (g graph) resolve(key string) []Person {
	seen := map[string]bool{}
	byName := map[string]Person{}
	stack := []string{key}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[k] {
			continue
		}
		seen[k] = true
		for _, p := range g.people[k] {
			if _, dup := byName[p.Username]; !dup {
				byName[p.Username] = p
			}
		}
		stack = append(stack, g.subgroups[k]...)
	}
	return sortedPeople(byName)
}

func sortedPeople(m map[string]Person) []Person {
	out := make([]Person, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Person) int { return strings.Compare(a.Username, b.Username) })
	return out
}
