package v1alpha1

import "testing"

func TestRoleHigher(t *testing.T) {
	for _, tc := range []struct {
		a, b, want Role
	}{
		{RoleOwner, RoleMember, RoleOwner},
		{RoleMember, RoleOwner, RoleOwner},
		{RoleModerator, RoleMember, RoleModerator},
		{RoleMember, RoleModerator, RoleModerator},
		{RoleOwner, RoleModerator, RoleOwner},
		{"", RoleModerator, RoleModerator}, // nobody yet: the new role
		{RoleModerator, "", RoleModerator},
		{"", "", RoleMember}, // the API's default
		{RoleMember, RoleMember, RoleMember},
	} {
		if got := tc.a.Higher(tc.b); got != tc.want {
			t.Errorf("%q.Higher(%q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}
