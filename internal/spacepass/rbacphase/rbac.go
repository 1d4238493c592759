package rbacphase

import (
	"context"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// spaceRole is a Kubernetes Role the operator makes for every space.
type spaceRole struct {
	suffix string
	rules  func(space string) []rbacv1.PolicyRule
}

var (
	ownerRole = spaceRole{suffix: "owner", rules: ownerRules}
	// viewerRole is bound to moderators and members: in Kubernetes both may only look.
	viewerRole = spaceRole{suffix: "viewer", rules: viewerRules}
)

// roleForMember maps the role model onto the two Kubernetes Roles.
var roleForMember = map[collabv1.Role]spaceRole{
	collabv1.RoleOwner:     ownerRole,
	collabv1.RoleModerator: viewerRole,
	collabv1.RoleMember:    viewerRole,
}

// bindingRoles fixes the order of the RoleBindings, one per role in use.
var bindingRoles = []collabv1.Role{collabv1.RoleOwner, collabv1.RoleModerator, collabv1.RoleMember}

func roleName(space string, r spaceRole) string { return "collab-" + space + "-" + r.suffix }

func bindingName(space string, role collabv1.Role) string {
	return map[collabv1.Role]string{
		collabv1.RoleOwner:     "collab-" + space + "-owners",
		collabv1.RoleModerator: "collab-" + space + "-moderators",
		collabv1.RoleMember:    "collab-" + space + "-members",
	}[role]
}

// ownerRules let a department lead change their own space (and only it) by pull
// request or kubectl, and read what the operator says about it.
func ownerRules(space string) []rbacv1.PolicyRule {
	return append([]rbacv1.PolicyRule{{
		APIGroups:     []string{collabv1.GroupVersion.Group},
		Resources:     []string{"collaborationspaces"},
		ResourceNames: []string{space},
		Verbs:         []string{"get", "update", "patch"},
	}}, viewerRules(space)...)
}

// viewerRules let every member see the space, its status and its events.
func viewerRules(space string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{
			APIGroups:     []string{collabv1.GroupVersion.Group},
			Resources:     []string{"collaborationspaces", "collaborationspaces/status"},
			ResourceNames: []string{space},
			Verbs:         []string{"get"},
		},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
	}
}

// subjectsByRole groups the space's members into RBAC subjects per role, in spec order.
func subjectsByRole(space *collabv1.CollaborationSpace) map[collabv1.Role][]rbacv1.Subject {
	out := map[collabv1.Role][]rbacv1.Subject{}
	for _, m := range space.Spec.Members {
		role := m.Role
		if role == "" {
			role = collabv1.RoleMember
		}
		out[role] = append(out[role], subjectFor(m, space.Namespace))
	}
	return out
}

func subjectFor(m collabv1.Member, namespace string) rbacv1.Subject {
	if m.Kind == collabv1.SubjectServiceAccount {
		ns := m.Namespace
		if ns == "" {
			ns = namespace
		}
		return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: m.Name, Namespace: ns}
	}
	return rbacv1.Subject{Kind: string(m.Kind), APIGroup: rbacv1.GroupName, Name: m.Name}
}

// Reconcile makes the space's Roles and one RoleBinding per role in use,
// then prunes what is no longer declared. It owns PermissionsReady.
func (r *Phase) Reconcile(ctx context.Context, s *scope.Scope) (ctrl.Result, error) {
	space := s.Space
	var roles, bindings []string
	for _, role := range []spaceRole{ownerRole, viewerRole} {
		name, err := r.applyRole(ctx, space, role)
		if err != nil {
			return ctrl.Result{}, r.permissionsFailed(s, err)
		}
		roles = append(roles, name)
	}
	subjects := subjectsByRole(space)
	for _, role := range bindingRoles {
		if len(subjects[role]) == 0 {
			continue
		}
		name, err := r.applyRoleBinding(ctx, space, role, subjects[role])
		if err != nil {
			return ctrl.Result{}, r.permissionsFailed(s, err)
		}
		bindings = append(bindings, name)
	}
	if err := r.pruneRBAC(ctx, space, append(slices.Clone(roles), bindings...)); err != nil {
		return ctrl.Result{}, r.permissionsFailed(s, err)
	}

	space.Status.Permissions = &collabv1.PermissionsStatus{Roles: roles, RoleBindings: bindings}
	scope.SetCondition(space, collabv1.PermissionsReadyCondition, metav1.ConditionTrue, collabv1.ReasonBound,
		fmt.Sprintf("%s bound to %s", scope.Counted(len(roles), "role"), scope.Counted(len(space.Spec.Members), "member")))
	return ctrl.Result{}, nil
}

func (r *Phase) permissionsFailed(s *scope.Scope, err error) error {
	return s.Fail(collabv1.PermissionsReadyCondition, collabv1.ReasonBindingFailed,
		fmt.Errorf("cannot write the space's Roles or RoleBindings: %w", err))
}

func (r *Phase) applyRole(ctx context.Context, space *collabv1.CollaborationSpace, role spaceRole) (string, error) {
	obj := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: roleName(space.Name, role), Namespace: space.Namespace},
		Rules: role.rules(space.Name)}
	return obj.Name, r.applyRBAC(ctx, space, obj, "Role")
}

func (r *Phase) applyRoleBinding(ctx context.Context, space *collabv1.CollaborationSpace,
	role collabv1.Role, subjects []rbacv1.Subject) (string, error) {
	obj := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: bindingName(space.Name, role), Namespace: space.Namespace},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: roleName(space.Name, roleForMember[role])},
		Subjects: subjects}
	return obj.Name, r.applyRBAC(ctx, space, obj, "RoleBinding")
}

// pruneRBAC deletes the space's Roles and RoleBindings that are no longer declared,
// after the declared ones are in place, so no member loses access in between.
func (r *Phase) pruneRBAC(ctx context.Context, space *collabv1.CollaborationSpace, keep []string) error {
	objs, err := r.OwnedObjects(ctx, space, scope.OwnedKinds[:2])
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if slices.Contains(keep, obj.GetName()) {
			continue
		}
		if err := r.DeleteObject(ctx, space, obj.Object, obj.Kind); err != nil {
			return err
		}
	}
	return nil
}

// Revoke takes away what the spec no longer grants, and grants
// nothing: it runs while the space breaks a policy, when no other step may act.
// Removing a person from a space must take effect whatever else the space asks
// for: each RoleBinding keeps only the subjects the spec still declares in its
// role, and one with none left, or of a role no longer in use, is deleted.
func (r *Phase) Revoke(ctx context.Context, space *collabv1.CollaborationSpace) error {
	declared := subjectsByRole(space)
	objs, err := r.OwnedObjects(ctx, space, scope.OwnedKinds[1:2])
	if err != nil {
		return err
	}
	for _, obj := range objs {
		// The cache holds no subjects (TrimForCache): read who the binding grants.
		binding := &rbacv1.RoleBinding{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj.Object), binding); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("cannot read RoleBinding %s: %w", obj.GetName(), err)
		}
		kept := keptSubjects(binding.Subjects, declared[roleOfBinding(space.Name, binding.Name)])
		switch {
		case len(kept) == 0:
			err = r.DeleteObject(ctx, space, binding, "RoleBinding")
		case len(kept) < len(binding.Subjects):
			binding.Subjects = kept
			err = r.applyRBAC(ctx, space, binding, "RoleBinding")
		}
		if err != nil {
			return fmt.Errorf("cannot revoke access through RoleBinding %s: %w", binding.Name, err)
		}
	}
	return nil
}

// roleOfBinding is the member role a RoleBinding of the space binds, or "".
func roleOfBinding(space, binding string) collabv1.Role {
	for _, role := range bindingRoles {
		if bindingName(space, role) == binding {
			return role
		}
	}
	return ""
}

// keptSubjects are the subjects of have that want still declares.
func keptSubjects(have, want []rbacv1.Subject) []rbacv1.Subject {
	var kept []rbacv1.Subject
	for _, s := range have {
		if slices.Contains(want, s) {
			kept = append(kept, s)
		}
	}
	return kept
}

// rbacPhase keeps the space's Roles and RoleBindings.
type Phase struct{ *scope.Kit }
