package forumphase

import (
	"context"
	"errors"
	"fmt"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// retireRemovedCategories carries out the deletion policy on categories no longer
// declared: disabled by default, never silently dropped. In a shared forum only
// categories still under the space's department category are touched.
func (r *Phase) retireRemovedCategories(ctx context.Context, p *forumPass, status *collabv1.ForumStatus) error {
	old := p.s.Space.Status.Forum
	if old == nil {
		return nil
	}
	kept := map[int64]bool{}
	for _, c := range status.Categories {
		kept[c.ID] = true
	}
	for _, c := range old.Categories {
		if kept[c.ID] {
			continue
		}
		if p.shared && scope.DeletionPolicyOf(p.s.Space) != collabv1.DeletionPolicyRetain {
			exists, own, err := ownCategory(ctx, p.client, c, status.ParentCategoryID)
			switch {
			case err != nil:
				return err
			case !exists:
				continue
			case !own:
				return categoryConflict(c.ID, c.Name, status.ParentCategoryID)
			}
		}
		if err := r.retireCategory(ctx, p.client, p.s.Space, c); err != nil {
			return err
		}
	}
	return nil
}

// retireCategory disables (Archive), deletes (Delete) or leaves (Retain) a category.
func (r *Phase) retireCategory(ctx context.Context, c forum.Client, space *collabv1.CollaborationSpace,
	cat collabv1.CategoryStatus) error {
	switch scope.DeletionPolicyOf(space) {
	case collabv1.DeletionPolicyRetain:
		return nil
	case collabv1.DeletionPolicyDelete:
		if err := c.DeleteCategory(ctx, cat.ID); err != nil {
			return fmt.Errorf("cannot delete forum category %q: %w", cat.Name, err)
		}
		r.RecordChange(space, collabv1.ReasonCategoryDeleted, "Delete", "Deleted forum category %q (%d)", cat.Name, cat.ID)
	default:
		if err := c.DisableCategory(ctx, cat.ID); err != nil {
			return fmt.Errorf("cannot disable forum category %q: %w", cat.Name, err)
		}
		r.RecordChange(space, collabv1.ReasonCategoryArchived, "Archive", "Disabled forum category %q (%d); its topics are kept", cat.Name, cat.ID)
	}
	return nil
}

// retireForumContent carries out the deletion policy on every category of the space
// (and a shared forum's department category) and, under Delete, its groups.
func (r *Phase) retireForumContent(ctx context.Context, c forum.Client, planner forum.Planner,
	space *collabv1.CollaborationSpace) error {
	st := space.Status.Forum
	if st == nil || scope.DeletionPolicyOf(space) == collabv1.DeletionPolicyRetain {
		return nil
	}
	if space.Spec.Forum != nil && space.Spec.Forum.Deploy == nil {
		return r.retireSharedForumContent(ctx, c, planner, space)
	}
	// A deployed forum runs for this space alone: what status records is its own.
	var errs []error
	for _, cat := range st.Categories {
		errs = append(errs, r.retireCategory(ctx, c, space, cat))
	}
	return errors.Join(errs...)
}

// retireSharedForumContent retires, in a shared forum, only what it can show is the
// space's own: its department category while named after it, the categories under
// that, and under Delete the groups its status records or that carry its proof.
// What it cannot show is left alone with a warning and does not hold the deletion
// up: retrying would not change whose it is.
func (r *Phase) retireSharedForumContent(ctx context.Context, c forum.Client, pl forum.Planner,
	space *collabv1.CollaborationSpace) error {
	st := space.Status.Forum
	parent, err := c.ObserveCategory(ctx, st.ParentCategoryID, 0, pl.DepartmentCategoryName(space))
	if err != nil {
		return fmt.Errorf("cannot read the forum's department category: %w", err)
	}
	var errs []error
	switch {
	case parent == nil:
		// Gone, or never made: nothing beneath it can be shown to be this space's.
	case !pl.IsDepartmentCategoryOf(space, parent.Name):
		r.RecordWarning(space, collabv1.ReasonForumConflict, "Delete", "Left forum category %d and the categories recorded "+
			"under it alone: it is not named after this space", parent.ID)
	default:
		for _, cat := range st.Categories {
			exists, own, err := ownCategory(ctx, c, cat, parent.ID)
			switch {
			case err != nil:
				errs = append(errs, err)
			case !exists:
			case !own:
				r.RecordWarning(space, collabv1.ReasonForumConflict, "Delete", "Left forum category %d (recorded for %q) alone: "+
					"it is not under this space's department category", cat.ID, cat.Name)
			default:
				errs = append(errs, r.retireCategory(ctx, c, space, cat))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err // the department category goes last, once it is empty
		}
		errs = append(errs, r.retireCategory(ctx, c, space,
			collabv1.CategoryStatus{Name: pl.DepartmentCategoryName(space), ID: parent.ID}))
	}
	if scope.DeletionPolicyOf(space) == collabv1.DeletionPolicyDelete {
		self, err := c.Ping(ctx)
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("cannot reach the forum's API: %w", err))...)
		}
		for _, g := range pl.DesiredForum(space, forum.DesiredInput{Shared: true, Proof: c.Proof}).Groups {
			errs = append(errs, r.deleteOwnGroup(ctx, c, pl, space, self.UID, g))
		}
	}
	return errors.Join(errs...)
}

// deleteOwnGroup deletes one of the space's groups in a shared forum when the
// operator's account owns it and status records it or it carries the space's
// proof (ownGroup).
func (r *Phase) deleteOwnGroup(ctx context.Context, c forum.Client, pl forum.Planner,
	space *collabv1.CollaborationSpace, operatorUID int64, g forum.GroupSpec) error {
	observed, err := c.ObserveGroup(ctx, g.Name)
	if err != nil {
		return fmt.Errorf("cannot read forum group %s: %w", g.Name, err)
	}
	if observed == nil {
		return nil
	}
	if err := ownGroup(pl, space, operatorUID, g, *observed); err != nil {
		r.RecordWarning(space, collabv1.ReasonForumConflict, "Delete", "Left forum group %s alone: the operator did not make it for this space", g.Name)
		return nil
	}
	if err := c.DeleteGroup(ctx, g.Name); err != nil {
		return fmt.Errorf("cannot delete forum group %s: %w", g.Name, err)
	}
	r.RecordChange(space, collabv1.ReasonForumGroupDeleted, "Delete", "Deleted forum group %s", g.Name)
	return nil
}
