package chat_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/fake"
)

const (
	operator = "@op:x"
	owner    = "ns/eng"
)

// server is a tiny chat server for Locate: aliases and rooms, and the writes
// Locate made.
type server struct {
	aliases map[string]string // local part -> room id
	rooms   map[string]*chat.ObservedRoom
	setOps  []string
}

func (s *server) client() *fake.Client {
	read := func(id string) (*chat.ObservedRoom, error) {
		r, ok := s.rooms[id]
		if !ok {
			return nil, chat.ErrForbidden
		}
		cp := *r
		return &cp, nil
	}
	return &fake.Client{
		ResolveAliasFn: func(_ context.Context, a string) (string, error) { return s.aliases[a], nil },
		ObserveIDFn:    func(_ context.Context, id string) (*chat.ObservedRoom, error) { return read(id) },
		ObserveFn: func(_ context.Context, a string) (*chat.ObservedRoom, error) {
			id := s.aliases[a]
			if id == "" {
				return nil, nil
			}
			r, err := read(id)
			if err != nil {
				return nil, chat.ErrAliasConflict
			}
			r.Alias = "#" + a + ":x"
			return r, nil
		},
		SetAliasFn: func(_ context.Context, a, id string) error {
			s.setOps = append(s.setOps, a+"->"+id)
			s.aliases[a] = id
			return nil
		},
	}
}

// ours is a room the operator made for owner; forge edits it.
func ours(id string, forge func(*chat.ObservedRoom)) *chat.ObservedRoom {
	r := &chat.ObservedRoom{RoomID: id, Creator: operator, OwnerSender: operator, Owner: owner}
	if forge != nil {
		forge(r)
	}
	return r
}

// redactMarker empties the owner marker, as a redaction does; the creation
// event still names the space.
func redactMarker(r *chat.ObservedRoom) { r.Owner, r.CreatedFor = "", owner }

// redactMarkerAndCreate empties the marker and the creation event's owner.
func redactMarkerAndCreate(r *chat.ObservedRoom) { r.Owner, r.CreatedFor = "", "" }

func TestLocate(t *testing.T) {
	spec := chat.RoomSpec{AliasLocalpart: "ns.eng.general", CanonicalAlias: "#ns.eng.general:x", Owner: owner}
	type want struct {
		roomID   string
		found    chat.Found
		conflict bool
		lost     bool
		moved    string
		setOps   []string
	}
	cases := map[string]struct {
		aliases map[string]string
		rooms   []*chat.ObservedRoom
		lookup  chat.Lookup
		want    want
	}{
		"nothing anywhere: create": {want: want{found: chat.FoundNone}},
		"by id in status, alias in place": {
			aliases: map[string]string{"ns.eng.general": "!a"}, rooms: []*chat.ObservedRoom{ours("!a", nil)},
			lookup: chat.Lookup{KnownID: "!a"}, want: want{roomID: "!a", found: chat.FoundByID},
		},
		"by id in status, alias free: re-aliased (upgrade from the legacy scheme)": {
			rooms: []*chat.ObservedRoom{ours("!a", nil)}, lookup: chat.Lookup{KnownID: "!a"},
			want: want{roomID: "!a", found: chat.FoundByID, setOps: []string{"ns.eng.general->!a"}},
		},
		"by id in status, alias points elsewhere: reported, not followed": {
			aliases: map[string]string{"ns.eng.general": "!evil"},
			rooms:   []*chat.ObservedRoom{ours("!a", nil), ours("!evil", func(r *chat.ObservedRoom) { r.Creator = "@mallory:x" })},
			lookup:  chat.Lookup{KnownID: "!a"}, want: want{roomID: "!a", found: chat.FoundByID, moved: "!evil"},
		},
		"status names another space's room (forged or restored status)": {
			rooms:  []*chat.ObservedRoom{ours("!victim", func(r *chat.ObservedRoom) { r.Owner = "victim/finance" })},
			lookup: chat.Lookup{KnownID: "!victim"}, want: want{conflict: true},
		},
		"room in status lost, alias free: create": {
			lookup: chat.Lookup{KnownID: "!gone"}, want: want{found: chat.FoundNone, lost: true},
		},
		"by alias after a crash before the status write": {
			aliases: map[string]string{"ns.eng.general": "!a"}, rooms: []*chat.ObservedRoom{ours("!a", nil)},
			want: want{roomID: "!a", found: chat.FoundByAlias},
		},
		"alias squatted by a room someone else created": {
			aliases: map[string]string{"ns.eng.general": "!s"},
			rooms:   []*chat.ObservedRoom{ours("!s", func(r *chat.ObservedRoom) { r.Creator = "@mallory:x" })},
			want:    want{conflict: true},
		},
		"alias held by the operator's room with a forged owner marker": {
			aliases: map[string]string{"ns.eng.general": "!s"},
			rooms:   []*chat.ObservedRoom{ours("!s", func(r *chat.ObservedRoom) { r.OwnerSender = "@mallory:x" })},
			want:    want{conflict: true},
		},
		"alias held by a room the operator is not in": {
			aliases: map[string]string{"ns.eng.general": "!s"}, want: want{conflict: true},
		},
		"legacy alias of this space's room: adopted and re-aliased": {
			aliases: map[string]string{"eng-general": "!old"}, rooms: []*chat.ObservedRoom{ours("!old", nil)},
			lookup: chat.Lookup{LegacyAliases: []string{"eng-general"}},
			want:   want{roomID: "!old", found: chat.FoundByLegacyAlias, setOps: []string{"ns.eng.general->!old"}},
		},
		"legacy alias of another namespace's space of the same name: not ours, create": {
			aliases: map[string]string{"eng-general": "!other"},
			rooms:   []*chat.ObservedRoom{ours("!other", func(r *chat.ObservedRoom) { r.Owner = "other/eng" })},
			lookup:  chat.Lookup{LegacyAliases: []string{"eng-general"}}, want: want{found: chat.FoundNone},
		},
		// A Moderator can redact the marker: the operator's event stays, empty.
		"by id in status, marker redacted: still this space's": {
			aliases: map[string]string{"ns.eng.general": "!a"},
			rooms:   []*chat.ObservedRoom{ours("!a", redactMarker)},
			lookup:  chat.Lookup{KnownID: "!a"}, want: want{roomID: "!a", found: chat.FoundByID},
		},
		"by id in status, marker and creation event redacted: still this space's": {
			aliases: map[string]string{"ns.eng.general": "!a"},
			rooms:   []*chat.ObservedRoom{ours("!a", redactMarkerAndCreate)},
			lookup:  chat.Lookup{KnownID: "!a"}, want: want{roomID: "!a", found: chat.FoundByID},
		},
		"by id in status, marker redacted, creation event names another space: conflict": {
			rooms: []*chat.ObservedRoom{ours("!victim", func(r *chat.ObservedRoom) {
				redactMarker(r)
				r.CreatedFor = "victim/finance"
			})},
			lookup: chat.Lookup{KnownID: "!victim"}, want: want{conflict: true},
		},
		"by id in status, marker redacted in a room someone else created: conflict": {
			rooms: []*chat.ObservedRoom{ours("!s", func(r *chat.ObservedRoom) {
				redactMarkerAndCreate(r)
				r.Creator = "@mallory:x"
			})},
			lookup: chat.Lookup{KnownID: "!s"}, want: want{conflict: true},
		},
		"by id in status, an empty marker someone else wrote: conflict": {
			rooms: []*chat.ObservedRoom{ours("!s", func(r *chat.ObservedRoom) {
				redactMarkerAndCreate(r)
				r.OwnerSender = "@mallory:x"
			})},
			lookup: chat.Lookup{KnownID: "!s"}, want: want{conflict: true},
		},
		"by alias, marker redacted, creation event names this space: adopted": {
			aliases: map[string]string{"ns.eng.general": "!a"}, rooms: []*chat.ObservedRoom{ours("!a", redactMarker)},
			want: want{roomID: "!a", found: chat.FoundByAlias},
		},
		// The hostile case: another namespace's room whose proof was redacted, which
		// a user pointed this space's alias at.
		"by alias, marker and creation event redacted, not in status: conflict": {
			aliases: map[string]string{"ns.eng.general": "!victim"},
			rooms:   []*chat.ObservedRoom{ours("!victim", redactMarkerAndCreate)},
			want:    want{conflict: true},
		},
		"by alias, marker redacted, creation event names another space: conflict": {
			aliases: map[string]string{"ns.eng.general": "!victim"},
			rooms: []*chat.ObservedRoom{ours("!victim", func(r *chat.ObservedRoom) {
				redactMarker(r)
				r.CreatedFor = "victim/finance"
			})},
			want: want{conflict: true},
		},
		"status records a room lost, alias points at a room whose proof was redacted: conflict": {
			aliases: map[string]string{"ns.eng.general": "!victim"},
			rooms:   []*chat.ObservedRoom{ours("!victim", redactMarkerAndCreate)},
			lookup:  chat.Lookup{KnownID: "!gone"}, want: want{conflict: true},
		},
		"legacy alias of a room whose proof was redacted: not ours, create": {
			aliases: map[string]string{"eng-general": "!other"},
			rooms:   []*chat.ObservedRoom{ours("!other", redactMarkerAndCreate)},
			lookup:  chat.Lookup{LegacyAliases: []string{"eng-general"}}, want: want{found: chat.FoundNone},
		},
		"legacy alias squatted by a user: not ours, create": {
			aliases: map[string]string{"eng-general": "!s"},
			rooms:   []*chat.ObservedRoom{ours("!s", func(r *chat.ObservedRoom) { r.Creator = "@mallory:x" })},
			lookup:  chat.Lookup{LegacyAliases: []string{"eng-general"}}, want: want{found: chat.FoundNone},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := &server{aliases: map[string]string{}, rooms: map[string]*chat.ObservedRoom{}}
			for k, v := range tc.aliases {
				s.aliases[k] = v
			}
			for _, r := range tc.rooms {
				s.rooms[r.RoomID] = r
			}
			tc.lookup.Operator = operator
			room, loc, err := chat.Locate(context.Background(), s.client(), spec, tc.lookup)
			if got := errors.Is(err, chat.ErrAliasConflict); got != tc.want.conflict {
				t.Fatalf("err = %v, want conflict %v", err, tc.want.conflict)
			}
			if tc.want.conflict {
				if room != nil {
					t.Errorf("a conflict returned room %s: it would be adopted", room.RoomID)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gotID := ""
			if room != nil {
				gotID = room.RoomID
			}
			got := want{roomID: gotID, found: loc.Found, lost: loc.Lost, moved: loc.AliasElsewhere, setOps: s.setOps}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("Locate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckOwnerNamesNoOtherSpace(t *testing.T) {
	room := &chat.ObservedRoom{RoomID: "!r:x", Alias: "#ns.eng:x", Creator: operator, OwnerSender: operator, Owner: "victim-ns/finance"}
	err := chat.CheckOwner(room, owner, operator)
	if !errors.Is(err, chat.ErrAliasConflict) {
		t.Fatalf("CheckOwner = %v, want a conflict", err)
	}
	if msg := err.Error(); strings.Contains(msg, "victim-ns") {
		t.Errorf("the conflict %q names the other tenant's namespace", msg)
	}
}
