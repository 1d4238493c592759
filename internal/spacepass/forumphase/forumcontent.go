package forumphase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/outcome"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// Identity in a shared forum. A shared forum serves every namespace, and every
// namespace is a tenant that may be hostile, so the operator acts there only on
// what it can show is this space's own (names: the engine's forum.Planner):
//
//   - its department category: the id in status, only while the forum names it
//     after this space ("<department> (<namespace>/<name>)"); otherwise found by
//     that name at the root, which only the operator gives it;
//   - its categories: the ids in status, only while the forum shows them under
//     that department category; otherwise found by name beneath it;
//   - its groups ("<name>-<digest>-owners"…): only while the operator's own
//     account owns them (forum.ObservedGroup.OwnedBy), which no forum user can
//     arrange for a group they created, and then those recorded in status or,
//     after a crash between create and status write, a group of that name
//     with the proof the operator wrote into its description
//     (forum.Planner.Proven). The proof is public, so a user allowed to create
//     groups can copy it onto a group of the same name after the space's is
//     deleted; it only tells this space's groups from another space's, and
//     the owner check is what a copy cannot pass.
//
// Anything else in the way is a conflict: ForumReady=False with reason
// ForumConflict, the pass stops before touching it and is terminal (retrying
// will not change whose it is). Messages name ids and this space's own names,
// never what the forum holds, which may belong to another tenant. A deployed
// forum runs for the space alone, in its own namespace, and keeps the short
// names and the old rules.

// forumPass is one pass over a space's forum content through the forum's API.
type forumPass struct {
	s      *scope.Scope
	client forum.Client
	name   string // the forum, for metrics
	// shared: a ForumBackend's forum, where names carry the space's identity and
	// everything found is verified as the space's own.
	shared bool
	// planner is the forum engine's (forum.Connector.Planner).
	planner forum.Planner
	opts    forum.PlanOptions
	drift   []string
	// pending are the members who have no forum account yet, by username.
	pending []string
	// reconnect, when set, gives a client with a new token after the forum
	// refused the one it has (a deployed forum, whose token the operator mints).
	reconnect func(context.Context) (forum.Client, error)
}

// retryAfterChange ends conflict messages: the pass is terminal.
const retryAfterChange = "; then change the space to try again"

func groupConflict(name string) error {
	return &outcome.ForumConflictError{Msg: fmt.Sprintf("Forum group %s exists but the operator did not make it for this space, so it "+
		"is left alone: delete or rename it on the forum%s", name, retryAfterChange)}
}

// notOwnedConflict is a group of the space's name that the operator's account
// does not own: someone else made it (perhaps with a copied description), or
// the ForumBackend now acts as another account.
func notOwnedConflict(name string) error {
	return &outcome.ForumConflictError{Msg: fmt.Sprintf("Forum group %s exists but the operator's forum account is not one of its "+
		"owners, so someone else made it and it is left alone: delete it on the forum (if the ForumBackend's "+
		"credentials changed to another account, a forum administrator can instead add that account to the group "+
		"and make it an owner)%s", name, retryAfterChange)}
}

// ownGroup says why a group found under one of the space's names in a shared
// forum is not the space's (nil when it is): the operator's account must own
// it, and status must record it or it must carry the space's proof.
func ownGroup(pl forum.Planner, space *collabv1.CollaborationSpace, operatorUID int64, g forum.GroupSpec,
	observed forum.ObservedGroup) error {
	switch {
	case observed.System || !observed.OwnedBy(operatorUID):
		return notOwnedConflict(g.Name)
	case !recordedGroup(space, g.Name) && !pl.Proven(g, observed):
		return groupConflict(g.Name)
	}
	return nil
}

func parentConflict(id int64, want string) error {
	return &outcome.ForumConflictError{Msg: fmt.Sprintf("Forum category %d, recorded as this space's department category, is not "+
		"named after this space (%q), so it is left alone. A category named after the department alone, from an "+
		"earlier release, is taken over only when no other space records it; if it is this space's, a forum "+
		"administrator can rename it to that name%s", id, want, retryAfterChange)}
}

func categoryConflict(id int64, name string, parent int64) error {
	return &outcome.ForumConflictError{Msg: fmt.Sprintf("Forum category %d, recorded for %q, is not under this space's department "+
		"category %d, so it is left alone: a forum administrator can move it back, or remove it from "+
		"status.forum.categories%s", id, name, parent, retryAfterChange)}
}

// applyForumContent makes the space's groups, categories and privileges match the
// spec: groups first (privileges name them), then in a shared forum the department's
// own parent category, then the categories beneath it. It returns the forum's new
// status.
func (r *Phase) applyForumContent(ctx context.Context, p *forumPass) (*collabv1.ForumStatus, error) {
	space := p.s.Space
	self, err := p.client.Ping(ctx)
	if errors.Is(err, forum.ErrUnauthorized) && p.reconnect != nil {
		if p.client, err = p.reconnect(ctx); err == nil {
			self, err = p.client.Ping(ctx)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot reach the forum's API: %w", err)
	}
	p.opts = forum.PlanOptions{
		Authoritative: space.Spec.MemberPolicy == collabv1.MemberPolicyAuthoritative,
		OperatorUID:   self.UID,
		MayRemove:     p.s.MayRemoveForum, // the removal budget (scope.RemovalBudget)
	}
	in := forum.DesiredInput{Shared: p.shared, People: r.forumPeople(ctx, p.client, p.name, p.s)}
	if p.shared {
		in.Proof = p.client.Proof
		if in.RetiredGroups, err = legacyGroups(ctx, p); err != nil {
			return nil, err
		}
	}
	want := p.planner.DesiredForum(space, in)
	status := &collabv1.ForumStatus{}
	for _, g := range want.Groups {
		if err := r.ensureGroup(ctx, p, g); err != nil {
			return nil, err
		}
		status.Groups = append(status.Groups, g.Name)
	}
	if p.shared {
		parent, err := r.ensureDepartmentCategory(ctx, p, *want.Department)
		if err != nil {
			return nil, err
		}
		in.ParentCategoryID, status.ParentCategoryID = parent, parent
		want = p.planner.DesiredForum(space, in)
	}
	for _, cat := range want.Categories {
		var verify func(*forum.ObservedCategory) error
		if p.shared {
			verify = isUnder(cat.Spec.Name, in.ParentCategoryID)
		}
		id, err := r.ensureCategory(ctx, p, cat, priorCategoryID(space, cat.Spec.Name), verify)
		if err != nil {
			return nil, err
		}
		status.Categories = append(status.Categories, collabv1.CategoryStatus{Name: cat.Spec.Name, ID: id})
	}
	return status, r.retireRemovedCategories(ctx, p, status)
}

// legacyGroups returns the groups that releases before namespaced names made for
// the space in a shared forum ("<name>-owners"…) and whose description says they
// were made for exactly this space. They are not adopted (whoever may create a
// group could have made them); the plan takes their privileges in the space's own
// categories away. Once the space's new groups are recorded, this is done.
func legacyGroups(ctx context.Context, p *forumPass) ([]string, error) {
	space := p.s.Space
	if st := space.Status.Forum; st != nil && len(st.Groups) > 0 {
		return nil, nil
	}
	var out []string
	for _, name := range p.planner.LegacyGroupNames(space) {
		g, err := p.client.ObserveGroup(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("cannot read forum group %s: %w", name, err)
		}
		if g != nil && p.planner.IsLegacyGroupOf(space, *g) {
			out = append(out, name)
		}
	}
	return out, nil
}

// recordedGroup reports whether the space's status lists the group as made for it.
// Only this space's own group names are ever asked about.
func recordedGroup(space *collabv1.CollaborationSpace, name string) bool {
	return space.Status.Forum != nil && slices.Contains(space.Status.Forum.Groups, name)
}

// ensureGroup finds or creates a group and converges it. In a shared forum a group
// found by name is the space's only when the operator's account owns it and its
// status records it or it carries the space's proof; anything else is a
// conflict.
func (r *Phase) ensureGroup(ctx context.Context, p *forumPass, g forum.GroupSpec) error {
	observed, err := r.findOrCreateGroup(ctx, p, g)
	if err != nil {
		return err
	}
	actions, _ := p.planner.PlanGroup(g, *observed, p.opts)
	settings, members, err := applyGroupActions(ctx, p, g.Name, actions)
	if err != nil {
		return fmt.Errorf("cannot update forum group %s: %w", g.Name, err)
	}
	changed := groupChanges(settings, members)
	if len(changed) == 0 {
		return nil
	}
	r.RecordChange(p.s.Space, collabv1.ReasonForumGroupUpdated, "Update", "Updated %s of forum group %s", strings.Join(changed, ", "), g.Name)
	p.noteDrift("group "+g.Name, changed)
	return nil
}

// findOrCreateGroup observes the group, creating it when it is missing, and
// returns it once it is known to be the space's.
func (r *Phase) findOrCreateGroup(ctx context.Context, p *forumPass, g forum.GroupSpec) (*forum.ObservedGroup, error) {
	observed, err := p.client.ObserveGroup(ctx, g.Name)
	if err != nil {
		return nil, fmt.Errorf("cannot ensure forum group %s: %w", g.Name, err)
	}
	switch {
	case observed == nil:
		if observed, err = p.client.CreateGroup(ctx, g); err != nil {
			return nil, fmt.Errorf("cannot ensure forum group %s: %w", g.Name, err)
		}
		// CreateGroup adopts a group made between the read and the create: it
		// must be the operator's and carry the proof just written.
		if p.shared && (!observed.OwnedBy(p.opts.OperatorUID) || !p.planner.Proven(g, *observed)) {
			return nil, notOwnedOrUnproven(p, g, *observed)
		}
		r.RecordChange(p.s.Space, collabv1.ReasonForumGroupCreated, "Create", "Created forum group %s", g.Name)
	case p.shared:
		if err := ownGroup(p.planner, p.s.Space, p.opts.OperatorUID, g, *observed); err != nil {
			return nil, err
		}
	}
	return observed, nil
}

// notOwnedOrUnproven is the conflict of a group CreateGroup adopted.
func notOwnedOrUnproven(p *forumPass, g forum.GroupSpec, observed forum.ObservedGroup) error {
	if !observed.OwnedBy(p.opts.OperatorUID) {
		return notOwnedConflict(g.Name)
	}
	return groupConflict(g.Name)
}

// applyGroupActions applies the planned actions to the group and reports whether
// its settings and its members changed.
//
// One action at a time (a forum API takes one request per action anyway), so that
// adding a member who has no forum account yet is told apart: it writes
// nothing, is no drift and no change, and waits for their first login.
func applyGroupActions(ctx context.Context, p *forumPass, name string, actions []forum.GroupAction) (settings, members bool, err error) {
	var errs []error
	for _, a := range actions {
		err := p.client.UpdateGroup(ctx, name, []forum.GroupAction{a})
		if add, ok := a.(forum.AddMember); ok && err != nil && errors.Is(err, forum.ErrNoAccount) {
			p.pending = append(p.pending, add.Username)
			continue
		}
		if err != nil {
			errs = append(errs, err)
			if errors.Is(err, forum.ErrNotFound) {
				break // the group is gone
			}
			continue
		}
		if _, ok := a.(forum.SetGroupSettings); ok {
			settings = true
		} else {
			members = true
		}
	}
	return settings, members, errors.Join(errs...)
}

// groupChanges names what of a group changed, for events and drift.
func groupChanges(settings, members bool) []string {
	var changed []string
	if settings {
		changed = append(changed, "settings")
	}
	if members {
		changed = append(changed, "members")
	}
	return changed
}

// isDepartmentCategory verifies that a category is the space's department
// category: named after the space, whatever its department was.
func isDepartmentCategory(pl forum.Planner, space *collabv1.CollaborationSpace) func(*forum.ObservedCategory) error {
	return func(c *forum.ObservedCategory) error {
		if !pl.IsDepartmentCategoryOf(space, c.Name) {
			return parentConflict(c.ID, pl.DepartmentCategoryName(space))
		}
		return nil
	}
}

// ensureDepartmentCategory finds or creates the space's department category in a
// shared forum. A department category that a release before namespaced names
// made is named after the department alone; it is adopted (renamed) only when
// that is provably safe (adoptLegacyDepartmentCategory), otherwise it stays a
// conflict.
func (r *Phase) ensureDepartmentCategory(ctx context.Context, p *forumPass, cat forum.DesiredCategory) (int64, error) {
	prior := priorParentID(p.s.Space)
	id, err := r.ensureCategory(ctx, p, cat, prior, isDepartmentCategory(p.planner, p.s.Space))
	var conflict *outcome.ForumConflictError
	if prior == 0 || !errors.As(err, &conflict) {
		return id, err
	}
	adopted, aerr := r.adoptLegacyDepartmentCategory(ctx, p, cat, prior)
	switch {
	case aerr != nil:
		return 0, aerr
	case !adopted:
		return 0, err
	}
	return r.ensureCategory(ctx, p, cat, prior, isDepartmentCategory(p.planner, p.s.Space))
}

// adoptLegacyDepartmentCategory renames the category recorded as the space's
// department category to the space's own name when all of these hold: its id is
// in this space's status (only the operator writes status), it is at the root,
// it is named exactly after the space's department, as releases before
// namespaced names named it, and no other CollaborationSpace on the same
// ForumBackend records that id (two spaces of the same department in different
// namespaces, or a status restored into the wrong namespace, could both point
// at it, and then the name does not say whose it is).
func (r *Phase) adoptLegacyDepartmentCategory(ctx context.Context, p *forumPass, cat forum.DesiredCategory,
	id int64) (bool, error) {
	space := p.s.Space
	c, err := p.client.ObserveCategory(ctx, id, 0, "")
	if err != nil {
		return false, fmt.Errorf("cannot read forum category %d: %w", id, err)
	}
	if c == nil || c.ID != id || c.ParentID != 0 || c.Name != space.Spec.Department {
		return false, nil
	}
	backend := space.Spec.Forum.BackendRef.Name
	shared, err := r.otherSpacesRecording(ctx, space, backend, id)
	if err != nil || shared {
		return false, err
	}
	if err := p.client.UpdateCategory(ctx, id, []forum.CategoryAction{forum.SetName{Name: cat.Spec.Name}}); err != nil {
		return false, fmt.Errorf("cannot rename forum category %d: %w", id, err)
	}
	r.RecordChange(space, collabv1.ReasonForumCategoryAdopted, "Update", "Renamed forum category %d, this space's department "+
		"category from a release that named it after the department alone, to %q", id, cat.Spec.Name)
	return true, nil
}

// otherSpacesRecording reports whether a CollaborationSpace other than space, on
// the ForumBackend backend (or of unknown backend), records id as its
// department category.
func (r *Phase) otherSpacesRecording(ctx context.Context, space *collabv1.CollaborationSpace,
	backend string, id int64) (bool, error) {
	var spaces collabv1.CollaborationSpaceList
	if err := r.List(ctx, &spaces); err != nil {
		return false, fmt.Errorf("cannot list CollaborationSpaces: %w", err)
	}
	for _, o := range spaces.Items {
		if o.UID == space.UID || o.Status.Forum == nil || o.Status.Forum.ParentCategoryID != id {
			continue
		}
		onBackend := o.Status.Forum.Backend == backend || o.Status.Forum.Backend == "" ||
			(o.Spec.Forum != nil && o.Spec.Forum.BackendRef != nil && o.Spec.Forum.BackendRef.Name == backend)
		if onBackend {
			return true, nil
		}
	}
	return false, nil
}

// isUnder verifies that a category lies under the space's department category.
func isUnder(name string, parent int64) func(*forum.ObservedCategory) error {
	return func(c *forum.ObservedCategory) error {
		if c.ParentID != parent {
			return categoryConflict(c.ID, name, parent)
		}
		return nil
	}
}

// ensureCategory finds a category by its recorded id, or by name under its parent
// after a crash lost the id, creates it if need be, and converges it. verify, when
// set, must accept what was found before anything is changed.
func (r *Phase) ensureCategory(ctx context.Context, p *forumPass, cat forum.DesiredCategory, priorID int64,
	verify func(*forum.ObservedCategory) error) (int64, error) {
	observed, err := p.client.ObserveCategory(ctx, priorID, cat.Spec.ParentID, cat.Spec.Name)
	if err == nil && observed == nil {
		if observed, err = p.client.CreateCategory(ctx, cat.Spec); err == nil {
			r.RecordChange(p.s.Space, collabv1.ReasonCategoryCreated, "Create", "Created forum category %q (%d)", cat.Spec.Name, observed.ID)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("cannot ensure forum category %q: %w", cat.Spec.Name, err)
	}
	if verify != nil {
		if err := verify(observed); err != nil {
			return 0, err
		}
	}
	actions, report := p.planner.PlanCategory(cat, *observed, p.opts)
	if len(actions) == 0 {
		return observed.ID, nil
	}
	if err := p.client.UpdateCategory(ctx, observed.ID, actions); err != nil {
		return 0, fmt.Errorf("cannot update forum category %q: %w", cat.Spec.Name, err)
	}
	r.RecordChange(p.s.Space, collabv1.ReasonCategoryUpdated, "Update", "Updated %s of forum category %q", strings.Join(report.Drift, ", "), cat.Spec.Name)
	if priorID != 0 {
		p.noteDrift("category "+cat.Spec.Name, report.Drift)
	}
	return observed.ID, nil
}

// noteDrift counts fields put back in objects that already existed at the spec the
// status was last reconciled at, i.e. changed by hand.
func (p *forumPass) noteDrift(what string, fields []string) {
	if !p.s.UnchangedSpec() {
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

// ownCategory reads a category recorded in status and reports whether it still
// exists and, in a shared forum, whether it lies under parent, the space's verified
// department category.
func ownCategory(ctx context.Context, c forum.Client, cat collabv1.CategoryStatus, parent int64) (exists, own bool, err error) {
	observed, err := c.ObserveCategory(ctx, cat.ID, parent, "")
	if err != nil {
		return false, false, fmt.Errorf("cannot read forum category %q: %w", cat.Name, err)
	}
	if observed == nil || observed.ID != cat.ID {
		return false, false, nil
	}
	return true, observed.ParentID == parent, nil
}

// ApplyContentTo applies the content of the space's deployed forum to c, as on
// a forum set up for it: the dry run's empty forum, which records what it would
// write.
func (r *Phase) ApplyContentTo(ctx context.Context, s *scope.Scope, c forum.Client) error {
	p := &forumPass{s: s, client: c, planner: r.ForumEngine(s.Space).Planner(), name: r.DeployerOf(s.Space).Name(s.Space.Name)}
	_, err := r.applyForumContent(ctx, p)
	return err
}
