package dryrun

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/opencommons/collab-operator/internal/forum"
)

// Forum is a forum.Client that reads through to a real one and records writes.
// Objects it would create get negative ids.
type Forum struct {
	real   forum.Client
	rec    *Recorder
	name   string
	nextID int64
	self   *forum.Self
	known  []string
	// categories names the categories seen, by id, for the changes' targets.
	categories map[int64]string
}

var _ forum.Client = (*Forum)(nil)

// NewForum wraps real; name says which forum in the changes.
func NewForum(real forum.Client, name string, rec *Recorder) *Forum {
	return &Forum{real: real, rec: rec, name: name, categories: map[int64]string{}}
}

func (f *Forum) categoryTarget(id int64) string {
	if n, ok := f.categories[id]; ok {
		return fmt.Sprintf("category %q on %s", n, f.name)
	}
	return fmt.Sprintf("category %d on %s", id, f.name)
}

func (f *Forum) add(verb, target, object, detail string) {
	f.rec.Add(Change{Backend: BackendForum, Verb: verb, Target: target, Object: object, Detail: detail})
}

// ObserveCategory reads through; a category this plan would create is not there.
func (f *Forum) ObserveCategory(ctx context.Context, id, parentID int64, name string) (*forum.ObservedCategory, error) {
	if id < 0 {
		id = 0
	}
	if parentID < 0 { // under a category that does not exist yet
		return nil, nil
	}
	c, err := f.real.ObserveCategory(ctx, id, parentID, name)
	if c != nil {
		f.categories[c.ID] = c.Name
		if len(c.KnownPrivileges) > 0 {
			f.known = c.KnownPrivileges
		}
	}
	return c, err
}

// CreateCategory records the category and returns it with no privileges.
func (f *Forum) CreateCategory(_ context.Context, spec forum.CategorySpec) (*forum.ObservedCategory, error) {
	f.nextID--
	id := f.nextID
	f.categories[id] = spec.Name + " (new)"
	detail := fmt.Sprintf("description %q", spec.Description)
	if spec.ParentID != 0 {
		detail += " under " + f.categoryTarget(spec.ParentID)
	}
	f.add("create", fmt.Sprintf("category %q on %s", spec.Name, f.name), "", detail)
	known := f.known
	if known == nil {
		known = forum.CorePrivileges
	}
	// A new NodeBB category starts with default privileges this plan cannot
	// know; starting from none lists every grant the operator makes sure of.
	return &forum.ObservedCategory{ID: id, ParentID: spec.ParentID, Name: spec.Name, Description: spec.Description,
		Disabled: spec.Disabled, Privileges: forum.Privileges{}, KnownPrivileges: slices.Clone(known)}, nil
}

// UpdateCategory records each action.
func (f *Forum) UpdateCategory(_ context.Context, id int64, actions []forum.CategoryAction) error {
	target := f.categoryTarget(id)
	// Privileges are summed up per group: one line a group and verb, not one
	// a privilege (a new category takes some twenty for each group).
	type grants struct {
		verb, group string
		privileges  []string
	}
	var summed []*grants
	sum := func(verb, group, privilege string) {
		for _, g := range summed {
			if g.verb == verb && g.group == group {
				g.privileges = append(g.privileges, privilege)
				return
			}
		}
		summed = append(summed, &grants{verb: verb, group: group, privileges: []string{privilege}})
	}
	for _, a := range actions {
		switch a := a.(type) {
		case forum.Grant:
			sum("grant", a.Group, a.Privilege)
		case forum.Revoke:
			sum("revoke", a.Group, a.Privilege)
		case forum.SetDisabled:
			verb := "enable"
			if a.Disabled {
				verb = "disable"
			}
			f.add(verb, target, "", a.String())
		default:
			f.add("update", target, "", a.String())
		}
	}
	for _, g := range summed {
		f.add(g.verb, target, g.group, fmt.Sprintf("%s {%s}", g.group, strings.Join(g.privileges, ", ")))
	}
	return nil
}

// DisableCategory records archiving the category.
func (f *Forum) DisableCategory(_ context.Context, id int64) error {
	f.add("archive", f.categoryTarget(id), "", "disable; topics are kept")
	return nil
}

// DeleteCategory records purging the category.
func (f *Forum) DeleteCategory(_ context.Context, id int64) error {
	f.add("delete", f.categoryTarget(id), "", "purge with its topics and posts")
	return nil
}

// ObserveGroup reads through.
func (f *Forum) ObserveGroup(ctx context.Context, name string) (*forum.ObservedGroup, error) {
	return f.real.ObserveGroup(ctx, name)
}

// CreateGroup records the group and returns it as the forum makes it: closed, the
// operator its first owner and member.
func (f *Forum) CreateGroup(ctx context.Context, spec forum.GroupSpec) (*forum.ObservedGroup, error) {
	f.add("create", fmt.Sprintf("group %q on %s", spec.Name, f.name), "", fmt.Sprintf("description %q", spec.Description))
	g := &forum.ObservedGroup{Name: spec.Name, Description: spec.Description, Private: true, JoinRequestsDisabled: true}
	self, err := f.Ping(ctx)
	if err != nil {
		return nil, err
	}
	g.Members = []forum.Member{{UID: self.UID, Username: self.Username, Owner: true}}
	return g, nil
}

// UpdateGroup records each action.
func (f *Forum) UpdateGroup(_ context.Context, name string, actions []forum.GroupAction) error {
	target := fmt.Sprintf("group %q on %s", name, f.name)
	for _, a := range actions {
		verb, object := "update", ""
		switch a := a.(type) {
		case forum.AddMember:
			verb, object = "invite", a.Username
		case forum.RemoveMember:
			verb, object = "remove", a.Username
		}
		f.add(verb, target, object, a.String())
	}
	return nil
}

// DeleteGroup records deleting the group.
func (f *Forum) DeleteGroup(_ context.Context, name string) error {
	f.add("delete", fmt.Sprintf("group %q on %s", name, f.name), "", "")
	return nil
}

// LookupEmail reads through.
func (f *Forum) LookupEmail(ctx context.Context, email string) (string, error) {
	return f.real.LookupEmail(ctx, email)
}

// LookupUser reads through.
func (f *Forum) LookupUser(ctx context.Context, username string) (int64, error) {
	return f.real.LookupUser(ctx, username)
}

// Ping reads through, once.
func (f *Forum) Ping(ctx context.Context) (forum.Self, error) {
	if f.self != nil {
		return *f.self, nil
	}
	self, err := f.real.Ping(ctx)
	if err == nil {
		f.self = &self
	}
	return self, err
}

// Proof is the real client's: a dry run writes nothing, but it must recognise
// the groups the operator made.
func (f *Forum) Proof(subject string) string { return f.real.Proof(subject) }

// Version reads through.
func (f *Forum) Version(ctx context.Context) (string, error) { return f.real.Version(ctx) }
