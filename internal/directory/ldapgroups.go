package directory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// Resolve reads the people below UserBaseDN, the named groups below GroupBaseDN
// (each name escaped into the filter), and, for DN members that are not people,
// the nested groups they name, each DN read once.
func (s *LDAPSource) Resolve(ctx context.Context, names []string) (map[string]Group, error) {
	out := map[string]Group{}
	err := s.do(ctx, func(conn *ldap.Conn) error {
		var err error
		out, err = s.resolve(ctx, conn, names)
		return err
	})
	if err != nil {
		return nil, sanitizeOnce("cannot read the directory's groups", err)
	}
	return out, nil
}

func (s *LDAPSource) resolve(ctx context.Context, conn *ldap.Conn, names []string) (map[string]Group, error) {
	r := &groupResolver{s: s, conn: conn, nameKey: map[string]string{}, found: map[string]bool{}, seenDN: map[string]bool{},
		g: graph{people: map[string][]Person{}, subgroups: map[string][]string{}}}
	if err := r.readPeople(ctx); err != nil {
		return nil, err
	}
	for _, n := range names {
		r.nameKey[strings.ToLower(n)] = n
	}
	for batch := range slices.Chunk(slices.Sorted(maps.Keys(r.nameKey)), groupBatch) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.readGroups(ctx, batch); err != nil {
			return nil, err
		}
	}
	if err := r.readNested(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]Group, len(names))
	for _, n := range names {
		req := r.nameKey[strings.ToLower(n)]
		if !r.found[req] {
			out[n] = Group{}
			continue
		}
		out[n] = Group{Found: true, People: r.g.resolve(req)}
	}
	return out, nil
}

// groupResolver is the state of one Resolve on one connection.
type groupResolver struct {
	s    *LDAPSource
	conn *ldap.Conn
	// people by normalised DN and by username.
	byDN, byUsername map[string]Person
	g                graph
	// Each requested name is its own key (its entries' DNs, by name); nested
	// groups are keyed by DN.
	nameKey map[string]string // lower-cased name -> requested name
	found   map[string]bool
	pending []string // nested group DNs to read
	seenDN  map[string]bool
	// nestedReads counts the nested groups read, bounded by limits.nestedGroups.
	nestedReads int
}

// readPeople reads the people below UserBaseDN.
func (r *groupResolver) readPeople(ctx context.Context) error {
	sp := r.s.spec
	people, err := r.s.search(ctx, r.conn, sp.UserBaseDN, ldap.ScopeWholeSubtree, sp.UserFilter,
		[]string{sp.UsernameAttribute, sp.EmailAttribute})
	if err != nil {
		return err
	}
	r.byDN = map[string]Person{}
	r.byUsername = map[string]Person{}
	for _, e := range people {
		p := Person{Username: e.GetAttributeValue(sp.UsernameAttribute), Email: e.GetAttributeValue(sp.EmailAttribute)}
		if p.Username == "" {
			continue
		}
		r.byDN[normDN(e.DN)] = p
		r.byUsername[p.Username] = p
	}
	return nil
}

// readGroups reads one batch of requested groups, by lower-cased name, below
// GroupBaseDN.
func (r *groupResolver) readGroups(ctx context.Context, batch []string) error {
	sp := r.s.spec
	var f strings.Builder
	f.WriteString("(&" + sp.GroupFilter + "(|")
	for _, n := range batch {
		// The name is a tenant's: escaped, it can only ever be a value.
		f.WriteString("(" + sp.GroupNameAttribute + "=" + ldap.EscapeFilter(r.nameKey[n]) + ")")
	}
	f.WriteString("))")
	entries, err := r.s.search(ctx, r.conn, sp.GroupBaseDN, ldap.ScopeWholeSubtree, f.String(),
		[]string{sp.GroupNameAttribute, sp.MemberAttribute})
	if err != nil {
		return err
	}
	for _, e := range entries {
		for _, v := range e.GetAttributeValues(sp.GroupNameAttribute) {
			req, ok := r.nameKey[strings.ToLower(v)]
			if !ok || !slices.Contains(batch, strings.ToLower(v)) {
				continue
			}
			r.found[req] = true
			r.seenDN[normDN(e.DN)] = true
			// The requested group and its own DN are one node, so a nested
			// cycle back to it closes.
			r.g.subgroups[req] = append(r.g.subgroups[req], "dn:"+normDN(e.DN))
			r.addMembers("dn:"+normDN(e.DN), e)
		}
	}
	return nil
}

// readNested reads the nested groups found so far, and those they name, each
// DN once.
func (r *groupResolver) readNested(ctx context.Context) error {
	sp := r.s.spec
	for len(r.pending) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.nestedReads == r.s.limits.nestedGroups {
			return fmt.Errorf("the groups nest more than %d groups deep and wide: %w", r.s.limits.nestedGroups, ErrTooLarge)
		}
		r.nestedReads++
		dn := r.pending[0]
		r.pending = r.pending[1:]
		entries, err := r.s.search(ctx, r.conn, dn, ldap.ScopeBaseObject, sp.GroupFilter,
			[]string{sp.GroupNameAttribute, sp.MemberAttribute})
		if err != nil {
			return err
		}
		for _, e := range entries {
			r.addMembers("dn:"+normDN(dn), e)
		}
	}
	return nil
}

// addMembers adds the members of the group entry e to the node key: people
// directly, and, with nested groups, DN members that are not people as
// subgroups still to read.
func (r *groupResolver) addMembers(key string, e *ldap.Entry) {
	sp := r.s.spec
	for _, v := range e.GetAttributeValues(sp.MemberAttribute) {
		if sp.MemberValue == collabv1.MemberValueUsername {
			if p, ok := r.byUsername[v]; ok {
				r.g.people[key] = append(r.g.people[key], p)
			}
			continue
		}
		dn := normDN(v)
		if p, ok := r.byDN[dn]; ok {
			r.g.people[key] = append(r.g.people[key], p)
			continue
		}
		if *sp.NestedGroups {
			r.g.subgroups[key] = append(r.g.subgroups[key], "dn:"+dn)
			if !r.seenDN[dn] {
				r.seenDN[dn] = true
				r.pending = append(r.pending, v)
			}
		}
	}
}
