package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/opencommons/collab-operator/internal/chat"
)

func TestPlanPowerLevels(t *testing.T) {
	type want struct {
		levels *chat.PowerLevels // nil: no SetPowerLevels planned
		notes  []string
	}
	pl := func(users map[string]int, edit func(*chat.PowerLevels)) *chat.PowerLevels {
		p := levels(users)
		if edit != nil {
			edit(&p)
		}
		return &p
	}
	cases := map[string]struct {
		desired    chat.PowerLevels
		observed   chat.PowerLevels
		missing    []string // fields the server's event lacks
		opts       chat.PlanOptions
		ownerLevel int
		want       want
	}{
		"same meaning, different spelling: no change": {
			desired:  levels(map[string]int{op: 100, alice: 0}),
			observed: levels(map[string]int{op: 100}),
		},
		"a moderator made by hand is put back to member": {
			desired:  levels(map[string]int{op: 100, bob: 0}),
			observed: levels(map[string]int{op: 100, bob: 50}),
			want:     want{levels: pl(map[string]int{op: 100}, nil)},
		},
		"posting level changed by hand, unmanaged event levels kept": {
			desired: levels(map[string]int{op: 100}),
			observed: *pl(map[string]int{op: 100}, func(p *chat.PowerLevels) {
				p.EventsDefault = 50
				p.Events["org.example.custom"] = 10
			}),
			want: want{levels: pl(map[string]int{op: 100}, func(p *chat.PowerLevels) { p.Events["org.example.custom"] = 10 })},
		},
		"additive: an undeclared user's level below a Moderator's stays": {
			desired:  levels(map[string]int{op: 100, alice: 100}),
			observed: levels(map[string]int{op: 100, alice: 100, carol: 10}),
		},
		"additive: a removed Moderator is lowered": {
			desired:  levels(map[string]int{op: 100, alice: 100}),
			observed: levels(map[string]int{op: 100, alice: 100, carol: 50}),
			want:     want{levels: pl(map[string]int{op: 100, alice: 100}, nil)},
		},
		"additive: a removed Owner is lowered": {
			desired:  levels(map[string]int{op: 100, alice: 90}),
			observed: levels(map[string]int{op: 100, alice: 90, dave: 90}),
			want:     want{levels: pl(map[string]int{op: 100, alice: 90}, nil)},
		},
		"authoritative: an undeclared user's level is dropped": {
			desired:  levels(map[string]int{op: 100, alice: 100}),
			observed: levels(map[string]int{op: 100, alice: 100, carol: 50}),
			opts:     chat.PlanOptions{Authoritative: true},
			want:     want{levels: pl(map[string]int{op: 100, alice: 100}, nil)},
		},
		"the operator is never lowered": {
			desired:  levels(map[string]int{op: 50}),
			observed: levels(map[string]int{op: 100}),
		},
		"a user at the operator's level cannot be lowered": {
			desired:  levels(map[string]int{op: 100, alice: 50}),
			observed: levels(map[string]int{op: 100, alice: 100}),
			want: want{notes: []string{"@alice:x keeps power level 100 instead of 50: " +
				"it is not below the operator's own level, which Matrix does not let the operator change"}},
		},
		"last owner guard keeps the only human owner": {
			desired:  levels(map[string]int{op: 150}),
			observed: levels(map[string]int{op: 150, alice: 100}),
			opts:     chat.PlanOptions{Authoritative: true, LastOwnerGuard: true},
			want:     want{notes: []string{"@alice:x keeps power level 100: the room would have no owner besides the operator"}},
		},
		"an owner at 90 who loses the role is lowered: the operator sits above owners": {
			desired:  levels(map[string]int{op: 100, alice: 90, bob: 50}),
			observed: levels(map[string]int{op: 100, alice: 90, bob: 90}),
			opts:     chat.PlanOptions{LastOwnerGuard: true},
			want:     want{levels: pl(map[string]int{op: 100, alice: 90, bob: 50}, nil)},
		},
		"a legacy owner at 100 stays, with a note, while new owners get 90": {
			desired:  levels(map[string]int{op: 100, alice: 90, bob: 90}),
			observed: levels(map[string]int{op: 100, alice: 100}),
			opts:     chat.PlanOptions{LastOwnerGuard: true},
			want: want{levels: pl(map[string]int{op: 100, alice: 100, bob: 90}, nil), notes: []string{
				"@alice:x keeps power level 100 instead of 90: " +
					"it is not below the operator's own level, which Matrix does not let the operator change"}},
		},
		"last owner guard counts owners at the configured level": {
			desired:    levels(map[string]int{op: 100}),
			observed:   levels(map[string]int{op: 100, alice: 75}),
			opts:       chat.PlanOptions{Authoritative: true, LastOwnerGuard: true},
			ownerLevel: 75,
			want:       want{notes: []string{"@alice:x keeps power level 75: the room would have no owner besides the operator"}},
		},
		// A redaction in a version 10 room drops "invite": its default, 0, lets
		// anyone invite.
		"redacted: invite missing, defaulted to 0, is put back": {
			desired:  levels(map[string]int{op: 100}),
			observed: *pl(map[string]int{op: 100}, func(p *chat.PowerLevels) { p.Invite = 0 }),
			missing:  []string{"invite"},
			want:     want{levels: pl(map[string]int{op: 100}, nil)},
		},
		"a missing field whose default matches is written back all the same": {
			desired:  levels(map[string]int{op: 100}),
			observed: levels(map[string]int{op: 100}),
			missing:  []string{"redact"},
			want:     want{levels: pl(map[string]int{op: 100}, nil)},
		},
		"without the guard the owner is dropped": {
			desired:  levels(map[string]int{op: 150}),
			observed: levels(map[string]int{op: 150, alice: 100}),
			opts:     chat.PlanOptions{Authoritative: true},
			want:     want{levels: pl(map[string]int{op: 150}, nil)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.opts.OperatorUserID = op
			var r chat.PlanReport
			opts := options{PlanOptions: tc.opts, ownerLevel: New(Config{OwnerLevel: tc.ownerLevel}).ownerLevel()}
			actions := planPowerLevels(chat.RoomSpec{PowerLevels: tc.desired}, chat.ObservedRoom{PowerLevels: tc.observed, PowerLevelsMissing: tc.missing}, opts, &r)
			var got *chat.PowerLevels
			if len(actions) == 1 {
				p := actions[0].(chat.SetPowerLevels).PowerLevels
				got = &p
			}
			if diff := cmp.Diff(tc.want.levels, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("planned levels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want.notes, r.Notes, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}
