package forum

import "testing"

func TestPrivileges(t *testing.T) {
	p := Privileges{"b": {"read", "find"}, "a": {"find"}, "empty": nil}
	if !p.Has("b", "read") || p.Has("a", "read") || p.Has("nobody", "find") {
		t.Error("Has")
	}
	if got := p.Groups(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("Groups = %v, want [a b]", got)
	}
	same := Privileges{"a": {"find", "find"}, "b": {"find", "read"}, "other": {}}
	if !p.Equal(same) || !same.Equal(p) {
		t.Error("Equal ignores order, duplicates and empty groups")
	}
	if p.Equal(Privileges{"a": {"find"}, "b": {"find"}}) || p.Equal(Privileges{"a": {"find"}}) {
		t.Error("Equal sees a missing privilege and a missing group")
	}
}

func TestActionStrings(t *testing.T) {
	for _, c := range []struct {
		a    interface{ String() string }
		want string
	}{
		{SetName{Name: "RFCs"}, `set name to "RFCs"`},
		{SetDisabled{Disabled: true}, "disable"},
		{SetDisabled{}, "enable"},
		{SetParent{ParentID: 3}, "move under category 3"},
		{Grant{Group: "eng-members", Privilege: PrivRead}, `grant read to group "eng-members"`},
		{Revoke{Group: "guests", Privilege: PrivFind}, `revoke find from group "guests"`},
		{AddMember{Username: "alice"}, "add member alice"},
		{RemoveMember{UID: 4, Username: "bob"}, "remove member bob"},
	} {
		if got := c.a.String(); got != c.want {
			t.Errorf("%T.String() = %q, want %q", c.a, got, c.want)
		}
	}
}
