package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
)

func named(ns, name, department string) *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       collabv1.CollaborationSpaceSpec{Department: department, Forum: &collabv1.ForumSpec{}},
	}
}

// TestSharedNamesCarryTheIdentity: two spaces of the same name and department
// in two namespaces get nothing of the same name in a shared forum; a deployed
// forum keeps the short names.
func TestSharedNamesCarryTheIdentity(t *testing.T) {
	victim := named("dept-finance", "finance", "Finance")
	attacker := named("attacker", "finance", "Finance")
	type names struct {
		Groups     []string
		Department string
	}
	of := func(s *collabv1.CollaborationSpace, shared bool) names {
		f := DesiredForum(s, forum.DesiredInput{Shared: shared})
		var n names
		for _, g := range f.Groups {
			n.Groups = append(n.Groups, g.Name)
		}
		if f.Department != nil {
			n.Department = f.Department.Spec.Name
		}
		return n
	}
	cases := map[string]struct {
		space  *collabv1.CollaborationSpace
		shared bool
		want   names
	}{
		"shared, the victim": {victim, true, names{
			Groups:     []string{"finance-cac2824e9b70-owners", "finance-cac2824e9b70-moderators", "finance-cac2824e9b70-members"},
			Department: "Finance (dept-finance/finance)",
		}},
		"shared, the same name and department elsewhere": {attacker, true, names{
			Groups:     []string{"finance-d0ad1dabf4b4-owners", "finance-d0ad1dabf4b4-moderators", "finance-d0ad1dabf4b4-members"},
			Department: "Finance (attacker/finance)",
		}},
		"deployed: short names, no department category": {victim, false, names{
			Groups: []string{"finance-owners", "finance-moderators", "finance-members"},
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, of(tc.space, tc.shared)); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want.Groups, GroupNamesFor(tc.space, tc.shared).All()); diff != "" {
				t.Errorf("GroupNamesFor (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsDepartmentCategoryOf(t *testing.T) {
	space := named("dept-finance", "finance", "Finance")
	cases := map[string]struct {
		name string
		want bool
	}{
		"its name": {"Finance (dept-finance/finance)", true},
		"after a department rename, before the plan":    {"Money (dept-finance/finance)", true},
		"the department alone, as earlier releases":     {"Finance", false},
		"another namespace's space of the same name":    {"Finance (attacker/finance)", false},
		"a longer namespace ending the same":            {"Finance (x-dept-finance/finance)", false},
		"a department naming the victim, then its own":  {"Finance (dept-finance/finance) (attacker/a)", false},
		"the identity not at the end":                   {"Finance (dept-finance/finance) archive", false},
		"the identity without the space before it":      {"(dept-finance/finance)", false},
		"another space of the namespace, name a prefix": {"Finance (dept-finance/finance-2)", false},
	}
	for name, tc := range cases {
		if got := IsDepartmentCategoryOf(space, tc.name); got != tc.want {
			t.Errorf("%s: IsDepartmentCategoryOf(%q) = %v, want %v", name, tc.name, got, tc.want)
		}
	}
}

// TestProven: a group counts as the space's only with the tag that the
// operator's key makes for this space and this group name.
func TestProven(t *testing.T) {
	victim := named("dept-finance", "finance", "Finance")
	key := func(k string) func(string) string {
		return func(subject string) string { return k + ":" + subject }
	}
	desired := func(s *collabv1.CollaborationSpace, proof func(string) string) forum.GroupSpec {
		return DesiredForum(s, forum.DesiredInput{Shared: true, Proof: proof}).Groups[0]
	}
	want := desired(victim, key("operator"))
	cases := map[string]struct {
		observed forum.ObservedGroup
		want     bool
	}{
		"made by the operator for this space": {forum.ObservedGroup{Name: want.Name, Description: want.Description}, true},
		"its description edited around the tag": {forum.ObservedGroup{Name: want.Name,
			Description: "edited by hand " + want.Description[strings.LastIndex(want.Description, "[collab-proof:"):] + " more"}, true},
		"the description of earlier releases, no tag": {forum.ObservedGroup{Name: want.Name,
			Description: "Owners of Finance. Kept by collab-operator for CollaborationSpace dept-finance/finance."}, false},
		"a tag made with another key": {forum.ObservedGroup{Name: want.Name,
			Description: desired(victim, key("someone else")).Description}, false},
		"another space's tag": {forum.ObservedGroup{Name: want.Name,
			Description: desired(named("attacker", "finance", "Finance"), key("operator")).Description}, false},
		"a tag for another group of the space": {forum.ObservedGroup{Name: want.Name,
			Description: DesiredForum(victim, forum.DesiredInput{Shared: true, Proof: key("operator")}).Groups[2].Description}, false},
		"a system group": {forum.ObservedGroup{Name: want.Name, Description: want.Description, System: true}, false},
		"empty":          {forum.ObservedGroup{Name: want.Name}, false},
	}
	for name, tc := range cases {
		if got := Proven(want, tc.observed); got != tc.want {
			t.Errorf("%s: Proven = %v, want %v", name, got, tc.want)
		}
	}
	if Proven(DesiredForum(victim, forum.DesiredInput{Shared: true}).Groups[0], forum.ObservedGroup{Description: want.Description}) {
		t.Error("a desired group without a proof proves something")
	}
}

func TestIsLegacyGroupOf(t *testing.T) {
	space := named("dept-finance", "finance", "Finance")
	cases := map[string]struct {
		observed forum.ObservedGroup
		want     bool
	}{
		"written for this space": {forum.ObservedGroup{
			Description: "Owners of Finance. Kept by collab-operator for CollaborationSpace dept-finance/finance."}, true},
		"written for this space, department since renamed": {forum.ObservedGroup{
			Description: "Members of Money. Kept by collab-operator for CollaborationSpace dept-finance/finance."}, true},
		"written for a space of the same name elsewhere": {forum.ObservedGroup{
			Description: "Owners of Finance. Kept by collab-operator for CollaborationSpace attacker/finance."}, false},
		"a namespace ending the same": {forum.ObservedGroup{
			Description: "Owners of Finance. Kept by collab-operator for CollaborationSpace x-dept-finance/finance."}, false},
		"a space whose name starts the same": {forum.ObservedGroup{
			Description: "Owners of Finance. Kept by collab-operator for CollaborationSpace dept-finance/finance-2."}, false},
		"anything else":  {forum.ObservedGroup{Description: "Finance's owners"}, false},
		"a system group": {forum.ObservedGroup{System: true, Description: "Kept by collab-operator for CollaborationSpace dept-finance/finance."}, false},
	}
	for name, tc := range cases {
		if got := IsLegacyGroupOf(space, tc.observed); got != tc.want {
			t.Errorf("%s: IsLegacyGroupOf = %v, want %v", name, got, tc.want)
		}
	}
	if diff := cmp.Diff([]string{"finance-owners", "finance-moderators", "finance-members"}, LegacyGroupNames(space).All()); diff != "" {
		t.Errorf("LegacyGroupNames (-want +got):\n%s", diff)
	}
}
