package chat

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckOwner(t *testing.T) {
	cases := map[string]struct {
		owner    string
		wantErr  bool
		mentions string
	}{
		"same space":       {owner: "ns/eng"},
		"another space":    {owner: "other/eng", wantErr: true, mentions: `space "other/eng"`},
		"no marker at all": {owner: "", wantErr: true, mentions: "a room the operator did not create"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckOwner(&ObservedRoom{RoomID: "!r:x", Alias: "#eng:x", Owner: tc.owner}, "ns/eng")
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrAliasConflict)) {
				t.Fatalf("CheckOwner = %v, want error %v wrapping ErrAliasConflict", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.mentions) {
				t.Errorf("error %q does not say who holds the alias (%q)", err, tc.mentions)
			}
		})
	}
}

func TestSameSet(t *testing.T) {
	if !SameSet([]string{"b", "a", "a"}, []string{"a", "b"}) || SameSet([]string{"a"}, []string{"a", "b"}) || !SameSet(nil, []string{}) {
		t.Error("SameSet compares as sets")
	}
}
