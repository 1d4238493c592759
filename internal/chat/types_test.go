package chat

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckOwner(t *testing.T) {
	const op = "@op:x"
	cases := map[string]struct {
		room     ObservedRoom
		wantErr  bool
		mentions string
	}{
		"made by the operator for this space": {room: ObservedRoom{Creator: op, OwnerSender: op, Owner: "ns/eng"}},
		"another space's room": {room: ObservedRoom{Creator: op, OwnerSender: op, Owner: "other/eng"},
			wantErr: true, mentions: "a room that belongs to another space"},
		"no marker at all": {room: ObservedRoom{Creator: op}, wantErr: true,
			mentions: "a room whose owner marker the operator did not write"},
		"created by someone else, marker copied": {room: ObservedRoom{Creator: "@m:x", OwnerSender: op, Owner: "ns/eng"},
			wantErr: true, mentions: "a room the operator did not create"},
		"marker written by a person": {room: ObservedRoom{Creator: op, OwnerSender: "@m:x", Owner: "ns/eng"},
			wantErr: true, mentions: "owner marker the operator did not write"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.room.RoomID, tc.room.Alias = "!r:x", "#ns.eng:x"
			err := CheckOwner(&tc.room, "ns/eng", op)
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrAliasConflict)) {
				t.Fatalf("CheckOwner = %v, want error %v wrapping ErrAliasConflict", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.mentions) {
				t.Errorf("error %q does not say why (%q)", err, tc.mentions)
			}
			if err != nil && strings.Contains(err.Error(), "other/") {
				t.Errorf("error %q names another space", err)
			}
		})
	}
}

func TestSameSet(t *testing.T) {
	if !SameSet([]string{"b", "a", "a"}, []string{"a", "b"}) || SameSet([]string{"a"}, []string{"a", "b"}) || !SameSet(nil, []string{}) {
		t.Error("SameSet compares as sets")
	}
}
