package nodebb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opencommons/collab-operator/internal/forum"
)

// categoryJSON is the part of a NodeBB category object the client reads.
type categoryJSON struct {
	CID         flexInt `json:"cid"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	ParentCID   flexInt `json:"parentCid"`
	Disabled    flexInt `json:"disabled"`
}

// privilegesJSON is the answer of GET /api/v3/categories/{cid}/privileges.
type privilegesJSON struct {
	Groups []struct {
		Name       string          `json:"name"`
		Privileges map[string]bool `json:"privileges"`
	} `json:"groups"`
	Keys struct {
		Groups []string `json:"groups"`
	} `json:"keys"`
}

const groupPrivilegePrefix = "groups:"

func categoryPath(id int64) string { return "/api/v3/categories/" + strconv.FormatInt(id, 10) }

// getCategory reads a category by id; nil when it does not exist. NodeBB
// answers 200 with an empty response for an unknown id (and for a category the
// caller may not read, which an administrator may always).
func (c *Client) getCategory(ctx context.Context, id int64) (*categoryJSON, error) {
	var cat categoryJSON
	if err := c.do(ctx, call{method: http.MethodGet, op: "getCategory", path: categoryPath(id), envelope: true}, &cat); err != nil {
		return nil, err
	}
	if cat.CID <= 0 {
		return nil, nil
	}
	return &cat, nil
}

// findCategory looks a category up by name among the children of parentID in
// GET /api/v3/categories, the flat list of every category the caller may find.
// NodeBB leaves disabled categories out of it, even for administrators. Of two
// with the same name, the older (lower id) wins.
func (c *Client) findCategory(ctx context.Context, parentID int64, name string) (*categoryJSON, error) {
	var out struct {
		Categories []categoryJSON `json:"categories"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, op: "listCategories", path: "/api/v3/categories", envelope: true}, &out); err != nil {
		return nil, err
	}
	var found *categoryJSON
	for i, cat := range out.Categories {
		if cat.CID > 0 && int64(cat.ParentCID) == parentID && cat.Name == name &&
			(found == nil || cat.CID < found.CID) {
			found = &out.Categories[i]
		}
	}
	return found, nil
}

// privileges reads the group privileges of a category. Its route needs a login
// and the admin:privileges privilege, so it also proves the token works.
func (c *Client) privileges(ctx context.Context, id int64) (forum.Privileges, []string, error) {
	var out privilegesJSON
	if err := c.do(ctx, call{method: http.MethodGet, op: "getPrivileges", path: categoryPath(id) + "/privileges", envelope: true}, &out); err != nil {
		return nil, nil, err
	}
	privs := forum.Privileges{}
	for _, g := range out.Groups {
		var held []string
		for k, v := range g.Privileges {
			if p, ok := strings.CutPrefix(k, groupPrivilegePrefix); ok && v {
				held = append(held, p)
			}
		}
		privs[g.Name] = forum.SortedSet(held)
	}
	var known []string
	for _, k := range out.Keys.Groups {
		if p, ok := strings.CutPrefix(k, groupPrivilegePrefix); ok {
			known = append(known, p)
		}
	}
	return privs, known, nil
}

// observed completes a category with its privileges.
func (c *Client) observed(ctx context.Context, cat *categoryJSON) (*forum.ObservedCategory, error) {
	privs, known, err := c.privileges(ctx, int64(cat.CID))
	if err != nil {
		return nil, err
	}
	return toObserved(cat, privs, known), nil
}

func toObserved(cat *categoryJSON, privs forum.Privileges, known []string) *forum.ObservedCategory {
	return &forum.ObservedCategory{
		ID: int64(cat.CID), ParentID: int64(cat.ParentCID),
		Name: cat.Name, Description: cat.Description, Disabled: cat.Disabled != 0,
		Privileges: privs, KnownPrivileges: known,
	}
}

// ObserveCategory implements forum.Client. With an id it reads the privileges
// first: that route refuses a bad token (401), whereas the category route would
// serve it as a guest and answer "no such category".
func (c *Client) ObserveCategory(ctx context.Context, id, parentID int64, name string) (*forum.ObservedCategory, error) {
	if id > 0 {
		privs, known, err := c.privileges(ctx, id)
		if err != nil {
			return nil, err
		}
		cat, err := c.getCategory(ctx, id)
		if err != nil {
			return nil, err
		}
		if cat != nil {
			return toObserved(cat, privs, known), nil
		}
	}
	cat, err := c.findCategory(ctx, parentID, name)
	if err != nil || cat == nil {
		return nil, err
	}
	return c.observed(ctx, cat)
}

// CreateCategory implements forum.Client: POST /api/v3/categories, after
// looking for the category under its parent so a retried create adopts.
func (c *Client) CreateCategory(ctx context.Context, spec forum.CategorySpec) (*forum.ObservedCategory, error) {
	if existing, err := c.findCategory(ctx, spec.ParentID, spec.Name); err != nil {
		return nil, err
	} else if existing != nil {
		return c.observed(ctx, existing)
	}
	body := map[string]any{
		"name":        spec.Name,
		"description": spec.Description,
		"parentCid":   spec.ParentID,
		"disabled":    boolInt(spec.Disabled),
	}
	if spec.Order > 0 {
		body["order"] = spec.Order
	}
	var cat categoryJSON
	if err := c.do(ctx, call{method: http.MethodPost, op: "createCategory", path: "/api/v3/categories", body: body, envelope: true}, &cat); err != nil {
		return nil, err
	}
	if cat.CID <= 0 {
		return nil, &Error{Op: "createCategory", Status: http.StatusOK, cause: errors.New("the forum returned no category id")}
	}
	return c.observed(ctx, &cat)
}

// UpdateCategory implements forum.Client. Consecutive field changes go in one
// PUT /api/v3/categories/{cid}; each privilege change is one
// PUT or DELETE /api/v3/categories/{cid}/privileges/groups:{privilege} with the
// group as "member" in the body (the form every v4 release accepts).
func (c *Client) UpdateCategory(ctx context.Context, id int64, actions []forum.CategoryAction) error {
	var errs []error
	fields := map[string]any{}
	var pending []string
	flush := func() error {
		if len(fields) == 0 {
			return nil
		}
		err := c.updateFields(ctx, id, fields)
		if err != nil {
			errs = append(errs, fmt.Errorf("cannot %s of category %d: %w", strings.Join(pending, ", "), id, err))
		}
		fields, pending = map[string]any{}, nil
		return err
	}
	for _, a := range actions {
		switch a := a.(type) {
		case forum.SetName:
			fields["name"] = a.Name
		case forum.SetDescription:
			fields["description"] = a.Description
		case forum.SetParent:
			fields["parentCid"] = a.ParentID
		case forum.SetDisabled:
			fields["disabled"] = boolInt(a.Disabled)
		case forum.Grant, forum.Revoke:
			if err := flush(); errors.Is(err, forum.ErrNotFound) {
				return errors.Join(errs...)
			}
			if err := c.setPrivilege(ctx, id, a); err != nil {
				errs = append(errs, fmt.Errorf("cannot %s in category %d: %w", a, id, err))
			}
			continue
		default:
			errs = append(errs, fmt.Errorf("nodebb: unsupported category action %T", a))
			continue
		}
		pending = append(pending, a.String())
	}
	_ = flush()
	return errors.Join(errs...)
}

// updateFields sends one PUT. NodeBB skips an unknown category silently and
// answers 200 with an empty response, which is how the client tells.
func (c *Client) updateFields(ctx context.Context, id int64, fields map[string]any) error {
	var cat categoryJSON
	if err := c.do(ctx, call{method: http.MethodPut, op: "updateCategory", path: categoryPath(id), body: fields, envelope: true}, &cat); err != nil {
		return err
	}
	if cat.CID <= 0 {
		return &Error{Op: "updateCategory", Status: http.StatusOK, kind: forum.ErrNotFound,
			cause: fmt.Errorf("category %d does not exist", id)}
	}
	return nil
}

func (c *Client) setPrivilege(ctx context.Context, id int64, a forum.CategoryAction) error {
	cl := call{path: categoryPath(id) + "/privileges/", envelope: true}
	var group, priv string
	switch a := a.(type) {
	case forum.Grant:
		cl.method, cl.op, group, priv = http.MethodPut, "grantPrivilege", a.Group, a.Privilege
	case forum.Revoke:
		cl.method, cl.op, group, priv = http.MethodDelete, "revokePrivilege", a.Group, a.Privilege
	}
	cl.path += url.PathEscape(groupPrivilegePrefix + priv)
	cl.body = map[string]string{"member": group}
	return c.do(ctx, cl, nil)
}

// DisableCategory implements forum.Client with PUT {"disabled": 1}, after a read
// that makes it a no-op for a disabled or missing category.
func (c *Client) DisableCategory(ctx context.Context, id int64) error {
	cat, err := c.getCategory(ctx, id)
	if err != nil || cat == nil || cat.Disabled != 0 {
		return err
	}
	err = c.updateFields(ctx, id, map[string]any{"disabled": 1})
	if errors.Is(err, forum.ErrNotFound) {
		return nil
	}
	return err
}

// DeleteCategory implements forum.Client with DELETE /api/v3/categories/{cid},
// after a read: NodeBB does not check that the category exists before purging.
func (c *Client) DeleteCategory(ctx context.Context, id int64) error {
	cat, err := c.getCategory(ctx, id)
	if err != nil || cat == nil {
		return err
	}
	err = c.do(ctx, call{method: http.MethodDelete, op: "deleteCategory", path: categoryPath(id), envelope: true}, nil)
	if errors.Is(err, forum.ErrNotFound) {
		return nil
	}
	return err
}

// boolInt: NodeBB reads flags with parseInt, so true must travel as 1.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
