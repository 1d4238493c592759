package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forumplan"
	"github.com/opencommons/collab-operator/internal/metrics"
)

// forumPass is one pass over a space's forum content through the forum's API.
type forumPass struct {
	s      *spaceScope
	client forum.Client
	name   string // the forum, for metrics
	opts   forumplan.Options
	drift  []string
	// pending names groups with members who have no forum account yet.
	pending []string
}

// onlyNotFound reports whether err, or every error joined in it, says not found.
func onlyNotFound(err error) bool {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if !onlyNotFound(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, forum.ErrNotFound)
}

// applyForumContent makes the space's groups, categories and privileges match the
// spec: groups first (privileges name them), then in a shared forum the department's
// own parent category, then the categories beneath it. It returns the forum's new
// status.
func (r *CollaborationSpaceReconciler) applyForumContent(ctx context.Context, p *forumPass, shared bool) (*collabv1.ForumStatus, error) {
	space := p.s.space
	self, err := p.client.Ping(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the forum's API: %w", err)
	}
	p.opts = forumplan.Options{
		Authoritative: space.Spec.MemberPolicy == collabv1.MemberPolicyAuthoritative,
		OperatorUID:   self.UID,
	}
	in := forumplan.Input{Shared: shared}
	want := forumplan.DesiredForum(space, in)
	for _, g := range want.Groups {
		if err := r.ensureGroup(ctx, p, g); err != nil {
			return nil, err
		}
	}
	status := &collabv1.ForumStatus{}
	if shared {
		parent, err := r.ensureCategory(ctx, p, *want.Department, priorParentID(space))
		if err != nil {
			return nil, err
		}
		in.ParentCategoryID, status.ParentCategoryID = parent, parent
		want = forumplan.DesiredForum(space, in)
	}
	for _, cat := range want.Categories {
		id, err := r.ensureCategory(ctx, p, cat, priorCategoryID(space, cat.Spec.Name))
		if err != nil {
			return nil, err
		}
		status.Categories = append(status.Categories, collabv1.CategoryStatus{Name: cat.Spec.Name, ID: id})
	}
	return status, r.retireRemovedCategories(ctx, p, status)
}

func (r *CollaborationSpaceReconciler) ensureGroup(ctx context.Context, p *forumPass, g forum.GroupSpec) error {
	observed, err := p.client.ObserveGroup(ctx, g.Name)
	if err == nil && observed == nil {
		if observed, err = p.client.CreateGroup(ctx, g); err == nil {
			r.recordChange(p.s.space, "ForumGroupCreated", "Create", "Created forum group %s", g.Name)
		}
	}
	if err != nil {
		return fmt.Errorf("cannot ensure forum group %s: %w", g.Name, err)
	}
	actions, report := forumplan.PlanGroup(g, *observed, p.opts)
	if len(actions) == 0 {
		return nil
	}
	if err := p.client.UpdateGroup(ctx, g.Name, actions); err != nil {
		if !onlyNotFound(err) {
			return fmt.Errorf("cannot update forum group %s: %w", g.Name, err)
		}
		// Members join the forum at their first login; until then they wait.
		p.pending = append(p.pending, g.Name)
	}
	r.recordChange(p.s.space, "ForumGroupUpdated", "Update", "Updated %s of forum group %s", strings.Join(report.Drift, ", "), g.Name)
	p.noteDrift("group "+g.Name, report.Drift)
	return nil
}

// ensureCategory finds a category by its recorded id, or by name under its parent
// after a crash lost the id, creates it if need be, and converges it.
func (r *CollaborationSpaceReconciler) ensureCategory(ctx context.Context, p *forumPass, cat forumplan.Category, priorID int64) (int64, error) {
	observed, err := p.client.ObserveCategory(ctx, priorID, cat.Spec.ParentID, cat.Spec.Name)
	if err == nil && observed == nil {
		if observed, err = p.client.CreateCategory(ctx, cat.Spec); err == nil {
			r.recordChange(p.s.space, "CategoryCreated", "Create", "Created forum category %q (%d)", cat.Spec.Name, observed.ID)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("cannot ensure forum category %q: %w", cat.Spec.Name, err)
	}
	actions, report := forumplan.PlanCategory(cat, *observed, p.opts)
	if len(actions) == 0 {
		return observed.ID, nil
	}
	if err := p.client.UpdateCategory(ctx, observed.ID, actions); err != nil {
		return 0, fmt.Errorf("cannot update forum category %q: %w", cat.Spec.Name, err)
	}
	r.recordChange(p.s.space, "CategoryUpdated", "Update", "Updated %s of forum category %q", strings.Join(report.Drift, ", "), cat.Spec.Name)
	if priorID != 0 {
		p.noteDrift("category "+cat.Spec.Name, report.Drift)
	}
	return observed.ID, nil
}

// noteDrift counts fields put back in objects that already existed at the spec the
// status was last reconciled at, i.e. changed by hand.
func (p *forumPass) noteDrift(what string, fields []string) {
	if !p.s.unchangedSpec() {
		return
	}
	for _, f := range fields {
		metrics.DriftCorrections.WithLabelValues(p.name, "forum", f).Inc()
		p.drift = append(p.drift, what+" "+f)
	}
}

func priorParentID(space *collabv1.CollaborationSpace) int64 {
	if space.Status.Forum == nil {
		return 0
	}
	return space.Status.Forum.ParentCategoryID
}

func priorCategoryID(space *collabv1.CollaborationSpace, name string) int64 {
	if space.Status.Forum == nil {
		return 0
	}
	for _, c := range space.Status.Forum.Categories {
		if c.Name == name {
			return c.ID
		}
	}
	return 0
}

// retireRemovedCategories carries out the deletion policy on categories no longer
// declared: disabled by default, never silently dropped.
func (r *CollaborationSpaceReconciler) retireRemovedCategories(ctx context.Context, p *forumPass, status *collabv1.ForumStatus) error {
	old := p.s.space.Status.Forum
	if old == nil {
		return nil
	}
	kept := map[int64]bool{}
	for _, c := range status.Categories {
		kept[c.ID] = true
	}
	for _, c := range old.Categories {
		if !kept[c.ID] {
			if err := r.retireCategory(ctx, p.client, p.s.space, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// retireCategory disables (Archive), deletes (Delete) or leaves (Retain) a category.
func (r *CollaborationSpaceReconciler) retireCategory(ctx context.Context, c forum.Client, space *collabv1.CollaborationSpace,
	cat collabv1.CategoryStatus) error {
	switch deletionPolicy(space) {
	case collabv1.DeletionPolicyRetain:
		return nil
	case collabv1.DeletionPolicyDelete:
		if err := c.DeleteCategory(ctx, cat.ID); err != nil {
			return fmt.Errorf("cannot delete forum category %q: %w", cat.Name, err)
		}
		r.recordChange(space, "CategoryDeleted", "Delete", "Deleted forum category %q (%d)", cat.Name, cat.ID)
	default:
		if err := c.DisableCategory(ctx, cat.ID); err != nil {
			return fmt.Errorf("cannot disable forum category %q: %w", cat.Name, err)
		}
		r.recordChange(space, "CategoryArchived", "Archive", "Disabled forum category %q (%d); its topics are kept", cat.Name, cat.ID)
	}
	return nil
}

// retireForumContent carries out the deletion policy on every category of the space
// (and a shared forum's department category) and, under Delete, its groups.
func (r *CollaborationSpaceReconciler) retireForumContent(ctx context.Context, c forum.Client, space *collabv1.CollaborationSpace) error {
	st := space.Status.Forum
	if st == nil || deletionPolicy(space) == collabv1.DeletionPolicyRetain {
		return nil
	}
	cats := st.Categories
	if st.ParentCategoryID != 0 {
		cats = append(cats, collabv1.CategoryStatus{Name: space.Spec.Department, ID: st.ParentCategoryID})
	}
	var errs []error
	for _, cat := range cats {
		errs = append(errs, r.retireCategory(ctx, c, space, cat))
	}
	if deletionPolicy(space) == collabv1.DeletionPolicyDelete {
		for _, g := range forumplan.DesiredForum(space, forumplan.Input{}).Groups {
			errs = append(errs, c.DeleteGroup(ctx, g.Name))
		}
	}
	return errors.Join(errs...)
}
