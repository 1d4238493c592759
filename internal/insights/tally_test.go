package insights

import (
	"testing"
	"time"
)

// TestTallyCountsWholeDays: the live counts are kept by UTC day, so a window
// over a tally counts the whole days it touches, and forgotten days count
// nowhere; the same messages counted from their list give the same figures.
func TestTallyCountsWholeDays(t *testing.T) {
	today := DayOf(day0) // 09:00 on 1 December
	tally := NewTally()
	add := func(d Day, room, sender, answered string) {
		tally.Sent(d, room, sender)
		if answered != "" {
			tally.Answered(d, room, sender, answered)
		}
	}
	add(today, "!eng", "e1", "")
	add(today, "!eng", "m1", "e1")
	add(today-6, "!eng", "e2", "")
	add(today-6, "!eng", "e2", "e2") // an answer to oneself is none
	add(today-7, "!eng", "e3", "")
	add(today+1, "!eng", "e4", "")
	cases := []struct {
		name          string
		w             Window
		forget        Day
		messages      int
		people, cross int
	}{
		{name: "seven days to 09:00 today count all of the seventh day back",
			w: Window{From: day0.Add(-7 * 24 * time.Hour), To: day0}, messages: 5, people: 4, cross: 1},
		{name: "from the start of today",
			w: Window{From: today.Start(), To: day0}, messages: 2, people: 2, cross: 1},
		{name: "a window ending at midnight leaves the next day out",
			w: Window{From: (today - 6).Start(), To: (today + 1).Start()}, messages: 4, people: 3, cross: 1},
		{name: "forgotten days count nowhere",
			w: Window{From: day0.Add(-30 * 24 * time.Hour), To: day0.Add(48 * time.Hour)}, forget: today,
			messages: 3, people: 3, cross: 1},
	}
	for _, tc := range cases { // in order: the last forgets
		t.Run(tc.name, func(t *testing.T) {
			if tc.forget != 0 {
				tally.Forget(tc.forget)
			}
			f := CountTallies(testOrg(), []*Tally{tally}, tc.w, 1).Spaces["eng"]
			if f.Messages.Value != float64(tc.messages) || f.ActivePeople.Value != float64(tc.people) ||
				f.CrossAnswers.Value != float64(tc.cross) {
				t.Errorf("messages %v, people %v, answers across %v; want %d, %d, %d",
					f.Messages.Value, f.ActivePeople.Value, f.CrossAnswers.Value, tc.messages, tc.people, tc.cross)
			}
		})
	}
	if got := tally.Entries(); got != 4 {
		t.Errorf("a tally of 3 (room, person) pairs and an answer over the days kept holds %d counts, want 4", got)
	}
}

func TestDayOf(t *testing.T) {
	for at, want := range map[time.Time]time.Time{
		day0: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 1, 23, 59, 59, 0, time.FixedZone("x", -3600)): time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC),
	} {
		if got := DayOf(at).Start(); !got.Equal(want) {
			t.Errorf("DayOf(%s) starts %s, want %s", at, got, want)
		}
	}
}
