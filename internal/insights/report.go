package insights

// report turns the tallies into figures, suppressing those that rest on fewer
// than minPeople people. A figure resting on nobody (no one from outside took
// part) says nothing about anyone and is shown.
func (c *counter) report(w Window, minPeople int) Report {
	fig := func(value float64, restsOn int) Figure {
		if restsOn > 0 && restsOn < minPeople {
			return Figure{People: restsOn, Suppressed: true}
		}
		return Figure{Value: value, People: restsOn}
	}
	r := Report{Window: w, Spaces: map[string]SpaceFigures{}, Answers: map[string]map[string]Figure{}}
	for key, t := range c.spaces {
		s := c.org.Spaces[key]
		r.Spaces[key] = SpaceFigures{
			Messages:     fig(float64(t.messages), len(t.senders)),
			ActivePeople: fig(float64(len(t.senders)), len(t.senders)),
			Breadth:      fig(share(countIn(t.senders, s.People), len(distinct(s.People))), len(distinct(s.People))),
			Reach:        fig(float64(len(t.outsiders)), len(t.outsiders)),
			ReachShare:   fig(share(t.outsideMessages, t.messages), len(t.outsiders)),
			CrossAnswers: fig(float64(t.crossAnswers), len(t.crossPeople)),
			Leaders:      fig(share(countIn(t.senders, s.Owners), len(distinct(s.Owners))), len(distinct(s.Owners))),
		}
	}
	for k, cl := range c.answers {
		if r.Answers[k[0]] == nil {
			r.Answers[k[0]] = map[string]Figure{}
		}
		r.Answers[k[0]][k[1]] = fig(float64(cl.answers), len(cl.people))
	}
	r.OpenShare = fig(share(c.open, c.total), len(c.everyone))
	return r
}

// share is part/whole, 0 for an empty whole.
func share(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// countIn is how many of ids are in set.
func countIn(set people, ids []string) int {
	n := 0
	for id := range distinct(ids) {
		if set[id] {
			n++
		}
	}
	return n
}

func distinct(ids []string) people {
	u := people{}
	u.add(ids...)
	return u
}
