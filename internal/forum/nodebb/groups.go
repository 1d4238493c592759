package nodebb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/opencommons/collab-operator/internal/forum"
)

// membersPage is the page size of GET /api/v3/groups/{slug}/members.
const membersPage = 20

// maxMemberPages bounds the paging of one group's members.
const maxMemberPages = 1000

// groupJSON is the part of a NodeBB group object the client reads.
type groupJSON struct {
	Name                string  `json:"name"`
	Slug                string  `json:"slug"`
	Description         string  `json:"description"`
	Private             flexInt `json:"private"`
	Hidden              flexInt `json:"hidden"`
	System              flexInt `json:"system"`
	DisableJoinRequests flexInt `json:"disableJoinRequests"`
}

type memberJSON struct {
	UID      flexInt `json:"uid"`
	Username string  `json:"username"`
	IsOwner  bool    `json:"isOwner"`
}

func groupPath(slug string) string { return "/api/v3/groups/" + url.PathEscape(slug) }

// ObserveGroup implements forum.Client. The member list
// (GET /api/v3/groups/{slug}/members, paged by 20, owners first) needs a login,
// so it comes first to catch a bad token; the settings come from the group
// page's read API (GET /api/groups/{slug}), as /api/v3 has no group read.
func (c *Client) ObserveGroup(ctx context.Context, name string) (*forum.ObservedGroup, error) {
	slug := Slugify(name)
	members, err := c.members(ctx, slug)
	if errors.Is(err, forum.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var page struct {
		Group groupJSON `json:"group"`
	}
	err = c.do(ctx, call{method: http.MethodGet, op: "getGroup", path: "/api/groups/" + url.PathEscape(slug)}, &page)
	if errors.Is(err, forum.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	g := page.Group
	if g.Name == "" {
		return nil, &Error{Op: "getGroup", Status: http.StatusOK, cause: errors.New("the forum returned no group")}
	}
	return &forum.ObservedGroup{
		Name: g.Name, Slug: g.Slug, Description: g.Description,
		Private: g.Private != 0, JoinRequestsDisabled: g.DisableJoinRequests != 0,
		Hidden: g.Hidden != 0, System: g.System != 0,
		Members: members,
	}, nil
}

// members pages through a group's members. NodeBB's pages can repeat a user
// across a page boundary, so they are merged by uid.
func (c *Client) members(ctx context.Context, slug string) ([]forum.Member, error) {
	seen := map[int64]bool{}
	var out []forum.Member
	for page := 0; page < maxMemberPages; page++ {
		var resp struct {
			Users []memberJSON `json:"users"`
		}
		q := url.Values{"after": {strconv.Itoa(page * membersPage)}}
		if err := c.do(ctx, call{method: http.MethodGet, op: "listGroupMembers", path: groupPath(slug) + "/members",
			query: q, envelope: true}, &resp); err != nil {
			return nil, err
		}
		for _, u := range resp.Users {
			if u.UID > 0 && !seen[int64(u.UID)] {
				seen[int64(u.UID)] = true
				out = append(out, forum.Member{UID: int64(u.UID), Username: u.Username, Owner: u.IsOwner})
			}
		}
		if len(resp.Users) < membersPage {
			break
		}
	}
	slices.SortFunc(out, func(a, b forum.Member) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}

// CreateGroup implements forum.Client with POST /api/v3/groups. NodeBB refuses
// a taken name with a 400 whose only distinction is a translated message, so on
// any 400 the client looks the group up and adopts it when it exists.
func (c *Client) CreateGroup(ctx context.Context, spec forum.GroupSpec) (*forum.ObservedGroup, error) {
	body := map[string]any{
		"name":                spec.Name,
		"description":         spec.Description,
		"private":             1,
		"disableJoinRequests": 1,
		"hidden":              0,
	}
	err := c.do(ctx, call{method: http.MethodPost, op: "createGroup", path: "/api/v3/groups", body: body, envelope: true}, nil)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusBadRequest {
		existing, oerr := c.ObserveGroup(ctx, spec.Name)
		switch {
		case oerr != nil:
			return nil, errors.Join(err, oerr)
		case existing == nil:
			return nil, err
		case existing.System:
			return nil, fmt.Errorf("group name %q belongs to a NodeBB system group: %w", spec.Name, forum.ErrConflict)
		}
		return existing, nil
	}
	if err != nil {
		return nil, err
	}
	g, err := c.ObserveGroup(ctx, spec.Name)
	if err == nil && g == nil {
		err = &Error{Op: "getGroup", Status: http.StatusNotFound, kind: forum.ErrNotFound,
			cause: fmt.Errorf("group %q is not there after creating it", spec.Name)}
	}
	return g, err
}

// UpdateGroup implements forum.Client. A missing group stops it at the first
// action, since every other would fail the same way.
func (c *Client) UpdateGroup(ctx context.Context, name string, actions []forum.GroupAction) error {
	slug := Slugify(name)
	var errs []error
	for _, a := range actions {
		var err error
		switch a := a.(type) {
		case forum.SetGroupSettings:
			err = c.do(ctx, call{method: http.MethodPut, op: "updateGroup", path: groupPath(slug), envelope: true,
				body: map[string]any{"description": a.Description, "private": 1, "disableJoinRequests": 1}}, nil)
		case forum.AddMember:
			err = c.join(ctx, slug, a.Username)
		case forum.RemoveMember:
			err = c.do(ctx, call{method: http.MethodDelete, op: "leaveGroup", envelope: true,
				path: groupPath(slug) + "/membership/" + strconv.FormatInt(a.UID, 10)}, nil)
		default:
			err = fmt.Errorf("nodebb: unsupported group action %T", a)
		}
		if err == nil {
			continue
		}
		errs = append(errs, fmt.Errorf("cannot %s in group %q: %w", a, name, err))
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusNotFound && e.Op != "getUser" {
			break
		}
	}
	return errors.Join(errs...)
}

// join adds a user by username. NodeBB answers a uid it does not know with a
// 401 (its "invalid-uid" error), the same status as a bad token; Ping tells the
// two apart.
func (c *Client) join(ctx context.Context, slug, username string) error {
	uid, err := c.LookupUser(ctx, username)
	if err != nil {
		return err
	}
	err = c.do(ctx, call{method: http.MethodPut, op: "joinGroup", envelope: true,
		path: groupPath(slug) + "/membership/" + strconv.FormatInt(uid, 10)}, nil)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
		if _, perr := c.Ping(ctx); perr == nil {
			e.kind = forum.ErrNotFound
			e.cause = fmt.Errorf("the forum no longer knows user %q (uid %d): %w", username, uid, forum.ErrNoAccount)
		}
	}
	return err
}

// DeleteGroup implements forum.Client with DELETE /api/v3/groups/{slug}.
func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	err := c.do(ctx, call{method: http.MethodDelete, op: "deleteGroup", path: groupPath(Slugify(name)), envelope: true}, nil)
	if errors.Is(err, forum.ErrNotFound) {
		return nil
	}
	return err
}
