package matrix

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/opencommons/collab-operator/internal/chat"
)

func ev(typ, key, sender, content string) stateEvent {
	return stateEvent{Type: typ, StateKey: key, Sender: sender, Content: json.RawMessage(content)}
}

func TestParseState(t *testing.T) {
	cases := map[string]struct {
		events []stateEvent
		want   chat.ObservedRoom
	}{
		"space with links, marker and members": {
			events: []stateEvent{
				ev(evCreate, "", "@op:x", `{"type":"m.space","room_version":"10"}`),
				ev(evName, "", "@op:x", `{"name":"Engineering"}`),
				ev(evTopic, "", "@op:x", `{"topic":"talk"}`),
				ev(evJoinRules, "", "@op:x", `{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!a:x"},{"type":"other","room_id":"!b:x"}]}`),
				ev(evSpaceChild, "!c1:x", "@op:x", `{"via":["x"]}`),
				ev(evSpaceChild, "!c2:x", "@op:x", `{}`),
				ev(evSpaceParent, "!p:x", "@op:x", `{"via":["x"],"canonical":true}`),
				ev(chat.OwnerEventType, "", "@op:x", `{"owner":"ns/eng","archived":true}`),
				ev(evCanonicalAlias, "", "@op:x", `{"alias":"#ns.eng:x"}`),
				ev(evMember, "@op:x", "@op:x", `{"membership":"join"}`),
				ev(evMember, "@left:x", "@left:x", `{"membership":"leave"}`),
				ev(evMember, "@kicked:x", "@op:x", `{"membership":"leave"}`),
				ev(evMember, "@inv:x", "@op:x", `{"membership":"invite"}`),
			},
			want: chat.ObservedRoom{
				RoomID: "!r:x", Name: "Engineering", Topic: "talk", Space: true, Creator: "@op:x",
				CanonicalAlias: "#ns.eng:x", OwnerSender: "@op:x",
				JoinRule: chat.JoinRuleRestricted, AllowRoomIDs: []string{"!a:x"},
				Children: map[string]bool{"!c1:x": true}, Parents: map[string]bool{"!p:x": true},
				Owner: "ns/eng", Archived: true,
				Members:  map[string]chat.Membership{"@op:x": "join", "@left:x": "leave", "@kicked:x": "leave", "@inv:x": "invite"},
				Declined: map[string]bool{"@left:x": true},
			},
		},
		"power levels: spec defaults for missing keys, strings accepted": {
			events: []stateEvent{
				ev(evPowerLevels, "", "@op:x", `{"users":{"@op:x":100,"@m:x":"50"},"events":{"m.room.name":"50"},"events_default":0,"notifications":{"room":50}}`),
			},
			want: chat.ObservedRoom{RoomID: "!r:x", PowerLevels: chat.PowerLevels{
				Users: map[string]int{"@op:x": 100, "@m:x": 50}, Events: map[string]int{"m.room.name": 50},
				StateDefault: 50, Kick: 50, Ban: 50, Redact: 50,
			}, PowerLevelsMissing: []string{"ban", "invite", "kick", "redact", "state_default", "users_default"}},
		},
		// What a redaction leaves in a room of version 10: "invite" goes, so anyone
		// could invite, and the owner marker is empty but still the operator's.
		"redacted power levels and owner marker": {
			events: []stateEvent{
				ev(evPowerLevels, "", "@op:x", `{"users":{"@op:x":100},"users_default":0,"events":{},"events_default":0,`+
					`"state_default":50,"kick":50,"ban":50,"redact":50}`),
				ev(chat.OwnerEventType, "", "@op:x", `{}`),
			},
			want: chat.ObservedRoom{RoomID: "!r:x", OwnerSender: "@op:x", PowerLevels: chat.PowerLevels{
				Users: map[string]int{"@op:x": 100}, StateDefault: 50, Kick: 50, Ban: 50, Redact: 50,
			}, PowerLevelsMissing: []string{"invite"}},
		},
		"malformed events are skipped": {
			events: []stateEvent{
				ev(evPowerLevels, "", "@op:x", `{"users":{"@op:x":"lots"}}`),
				ev(evName, "", "@op:x", `"not an object"`),
			},
			want: chat.ObservedRoom{RoomID: "!r:x"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := parseState("!r:x", tc.events)
			if diff := cmp.Diff(&tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("parseState (-want +got):\n%s", diff)
			}
		})
	}
}
