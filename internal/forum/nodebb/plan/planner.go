package plan

import (
	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
)

// Planner plans NodeBB forums. NodeBB's rules take no setting from a
// ForumBackend or a deployed forum's spec, so one planner serves every forum;
// the package's functions are the same rules for tests and tools.
type Planner struct{}

var _ forum.Planner = Planner{}

// New returns the NodeBB planner.
func New() Planner { return Planner{} }

// DesiredForum implements forum.Planner (see DesiredForum).
func (Planner) DesiredForum(space *collabv1.CollaborationSpace, in forum.DesiredInput) forum.Desired {
	return DesiredForum(space, in)
}

// PlanGroup implements forum.Planner (see PlanGroup).
func (Planner) PlanGroup(desired forum.GroupSpec, observed forum.ObservedGroup, opts forum.PlanOptions) ([]forum.GroupAction, forum.PlanReport) {
	return PlanGroup(desired, observed, opts)
}

// PlanCategory implements forum.Planner (see PlanCategory).
func (Planner) PlanCategory(desired forum.DesiredCategory, observed forum.ObservedCategory,
	opts forum.PlanOptions) ([]forum.CategoryAction, forum.PlanReport) {
	return PlanCategory(desired, observed, opts)
}

// Proven implements forum.Planner (see Proven).
func (Planner) Proven(desired forum.GroupSpec, observed forum.ObservedGroup) bool {
	return Proven(desired, observed)
}

// LegacyGroupNames implements forum.Planner: owners, moderators, members.
func (Planner) LegacyGroupNames(space *collabv1.CollaborationSpace) []string {
	return LegacyGroupNames(space).All()
}

// IsLegacyGroupOf implements forum.Planner (see IsLegacyGroupOf).
func (Planner) IsLegacyGroupOf(space *collabv1.CollaborationSpace, observed forum.ObservedGroup) bool {
	return IsLegacyGroupOf(space, observed)
}

// DepartmentCategoryName implements forum.Planner (see DepartmentCategoryName).
func (Planner) DepartmentCategoryName(space *collabv1.CollaborationSpace) string {
	return DepartmentCategoryName(space)
}

// IsDepartmentCategoryOf implements forum.Planner (see IsDepartmentCategoryOf).
func (Planner) IsDepartmentCategoryOf(space *collabv1.CollaborationSpace, name string) bool {
	return IsDepartmentCategoryOf(space, name)
}
