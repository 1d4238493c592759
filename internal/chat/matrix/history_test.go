package matrix

import (
	"encoding/json"
	"testing"
)

// TestWhatAMessageAnswers: a reply answers the message it quotes; an answer in
// a thread answers the thread's root, unless it is a reply to a message of the
// thread itself (m.in_reply_to that is not a fallback).
func TestWhatAMessageAnswers(t *testing.T) {
	cases := map[string]struct {
		relatesTo string
		want      string
	}{
		"a plain message":            {relatesTo: `null`, want: ""},
		"a reply":                    {relatesTo: `{"m.in_reply_to":{"event_id":"$q"}}`, want: "$q"},
		"in a thread, with fallback": {relatesTo: `{"rel_type":"m.thread","event_id":"$root","is_falling_back":true,"m.in_reply_to":{"event_id":"$last"}}`, want: "$root"},
		"in a thread, no reply":      {relatesTo: `{"rel_type":"m.thread","event_id":"$root"}`, want: "$root"},
		"a reply within a thread":    {relatesTo: `{"rel_type":"m.thread","event_id":"$root","m.in_reply_to":{"event_id":"$r2"}}`, want: "$r2"},
		"an edit answers nothing":    {relatesTo: `{"rel_type":"m.replace","event_id":"$q"}`, want: ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var e historyEvent
			raw := `{"event_id":"$e","type":"m.room.message","content":{"body":"never read","m.relates_to":` + tc.relatesTo + `}}`
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				t.Fatal(err)
			}
			if got := e.answers(); got != tc.want {
				t.Errorf("answers() = %q, want %q", got, tc.want)
			}
		})
	}
}
