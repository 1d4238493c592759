package client

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/opencommons/collab-operator/internal/insights"
)

// The known week's generator and its own naive count, which
// TestAKnownWeekAcrossFourDepartments (week_test.go) holds the operator to.

// weekDept is a department of the known week: its people by role, whether
// its space is Open or opted out of the insights, and who talks in each of
// its rooms (room name -> localparts; a shared room's talkers include the
// other department's people).
type weekDept struct {
	ns             string
	owners, others []string
	open, optedOut bool
	talk           map[string][]string
	sharedWith     map[string]string // room -> the namespace it is shared with
}

func (d weekDept) key() string { return d.ns + "/" + strings.TrimPrefix(d.ns, "wk-") }

// weekOrg (sales first: research shares a room with it): research (7 people, Owner rhea never speaks) shares open-questions
// with sales (6); support (Open; 5 Owners, tia silent) hears olga, who is in
// no department, and people of research and sales; finance has 4 people, so
// its breadth rests on too few; legal opted out, and lou, in legal and
// finance, talks in both; pat is in research and sales.
var weekOrg = []weekDept{
	{ns: "wk-sales", owners: []string{"wk-sam"}, others: []string{"wk-sue", "wk-sid", "wk-sol", "wk-sky", "wk-pat"},
		talk: map[string][]string{"general": {"wk-sam", "wk-sue", "wk-sid", "wk-sol", "wk-sky"}}},
	{ns: "wk-research", owners: []string{"wk-rhea", "wk-ravi"}, others: []string{"wk-rosa", "wk-rene", "wk-rudy", "wk-ruth", "wk-pat"},
		talk: map[string][]string{
			"general":        {"wk-ravi", "wk-rosa", "wk-rene", "wk-rudy", "wk-ruth", "wk-pat"},
			"open-questions": {"wk-ravi", "wk-rosa", "wk-rene", "wk-sam", "wk-sue", "wk-sid", "wk-sol", "wk-sky", "wk-pat"},
		},
		sharedWith: map[string]string{"open-questions": "wk-sales"}},
	{ns: "wk-support", open: true, owners: []string{"wk-tia", "wk-tom", "wk-ted", "wk-tao", "wk-tex"}, others: []string{"wk-tim"},
		talk: map[string][]string{"help": {"wk-tom", "wk-ted", "wk-tao", "wk-tex", "wk-tim", "wk-olga", "wk-rosa", "wk-rene", "wk-sid"}}},
	{ns: "wk-finance", owners: []string{"wk-fay"}, others: []string{"wk-fin", "wk-fox", "wk-lou"},
		talk: map[string][]string{"general": {"wk-fay", "wk-fin", "wk-fox", "wk-lou"}}},
	{ns: "wk-legal", optedOut: true, owners: []string{"wk-lee"}, others: []string{"wk-lou"},
		talk: map[string][]string{"general": {"wk-lee", "wk-lou"}}},
}

// weekLine is one message of the known week: daysAgo days before today, in a
// department's room, answering the line of index answers (-1: none).
type weekLine struct {
	daysAgo      int
	dept         int
	room, person string
	answers      int
}

// playWeek is the traffic generator: over the days from daysAgo 9 to 0, a
// fixed random number (2 to 5) of messages a day in each room, by its talkers,
// half of them answering an earlier message of the room. Seeded, so the week
// is the same every run; bounded, about 200 messages.
func playWeek() []weekLine {
	rnd := rand.New(rand.NewPCG(21, 7))
	var lines []weekLine
	for daysAgo := 9; daysAgo >= 0; daysAgo-- {
		for d, dept := range weekOrg {
			for _, room := range slices.Sorted(maps.Keys(dept.talk)) {
				for range 2 + rnd.IntN(4) {
					l := weekLine{daysAgo: daysAgo, dept: d, room: room, answers: -1,
						person: dept.talk[room][rnd.IntN(len(dept.talk[room]))]}
					var earlier []int
					for i, e := range lines {
						if e.dept == d && e.room == room {
							earlier = append(earlier, i)
						}
					}
					if len(earlier) > 0 && rnd.IntN(2) == 0 {
						l.answers = earlier[rnd.IntN(len(earlier))]
					}
					lines = append(lines, l)
				}
			}
		}
	}
	return lines
}

// forumLine is one post in a department's forum category: a topic's first
// post (opens), or an answer in the topic the line of index topic opened.
type forumLine struct {
	dept   int
	person string
	topic  int // -1: opens a topic
}

// playForum is the forum's side of the week: in each department's category,
// two or three topics by its own people, each answered one to four times.
// Seeded and bounded, like playWeek. (The forum dates a post itself, so all
// of them fall on the last day.)
func playForum() []forumLine {
	rnd := rand.New(rand.NewPCG(5, 11))
	var lines []forumLine
	for d, dept := range weekOrg {
		people := append(slices.Clone(dept.owners), dept.others...)
		for range 2 + rnd.IntN(2) {
			opened := len(lines)
			lines = append(lines, forumLine{dept: d, person: people[rnd.IntN(len(people))], topic: -1})
			for range 1 + rnd.IntN(4) {
				lines = append(lines, forumLine{dept: d, person: people[rnd.IntN(len(people))], topic: opened})
			}
		}
	}
	return lines
}

// forumTruth adds to r the forum figures the lines make: topics resting on
// the people who opened them, posts on the people who posted.
func forumTruth(r insights.Report, lines []forumLine, minPeople int) insights.Report {
	fig := func(v, people int) insights.Figure {
		if people > 0 && people < minPeople {
			return insights.Figure{People: people, Suppressed: true}
		}
		return insights.Figure{Value: float64(v), People: people}
	}
	for d, dept := range weekOrg {
		f, counted := r.Spaces[dept.key()]
		if !counted {
			continue
		}
		topics, posts := 0, 0
		openers, posters := map[string]bool{}, map[string]bool{}
		for _, l := range lines {
			if l.dept != d {
				continue
			}
			posts++
			posters[l.person] = true
			if l.topic < 0 {
				topics++
				openers[l.person] = true
			}
		}
		f.Forum = &insights.ForumFigures{Topics: fig(topics, len(openers)), Posts: fig(posts, len(posters))}
		r.Spaces[dept.key()] = f
	}
	return r
}

// weekTruth is what the figures must be over the last days days, counted
// from the lines by the definitions of docs/insights.md, one person and one
// message at a time: the generator's ground truth.
func weekTruth(lines []weekLine, days, minPeople int) insights.Report {
	depts := map[string][]string{} // person -> the departments declaring them
	for _, d := range weekOrg {
		if d.optedOut {
			continue
		}
		for _, p := range append(slices.Clone(d.owners), d.others...) {
			depts[p] = append(depts[p], d.key())
		}
	}
	of := func(p string) []string {
		if len(depts[p]) == 0 {
			return []string{insights.Outside}
		}
		return depts[p]
	}
	fig := func(v float64, people int) insights.Figure {
		if people > 0 && people < minPeople {
			return insights.Figure{People: people, Suppressed: true}
		}
		return insights.Figure{Value: v, People: people}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	counted := func(l weekLine) bool { return l.daysAgo < days && !weekOrg[l.dept].optedOut }
	r := insights.Report{Spaces: map[string]insights.SpaceFigures{}, Answers: map[string]map[string]insights.Figure{}}
	for d, dept := range weekOrg {
		if dept.optedOut {
			continue
		}
		people := append(slices.Clone(dept.owners), dept.others...)
		var msgs, outsideMsgs, cross int
		senders, outsiders, crossPeople := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, l := range lines {
			if l.dept != d || !counted(l) {
				continue
			}
			msgs++
			senders[l.person] = true
			if !slices.Contains(people, l.person) {
				outsideMsgs++
				outsiders[l.person] = true
			}
			if l.answers >= 0 {
				answered := lines[l.answers].person
				if answered != l.person && !slices.ContainsFunc(of(l.person), func(x string) bool { return slices.Contains(of(answered), x) && x != insights.Outside }) {
					cross++
					crossPeople[l.person], crossPeople[answered] = true, true
				}
			}
		}
		own, leaders := 0, 0
		for _, p := range people {
			if senders[p] {
				own++
				if slices.Contains(dept.owners, p) {
					leaders++
				}
			}
		}
		r.Spaces[dept.key()] = insights.SpaceFigures{
			Messages: fig(float64(msgs), len(senders)), ActivePeople: fig(float64(len(senders)), len(senders)),
			Breadth: fig(ratio(own, len(people)), len(people)),
			Reach:   fig(float64(len(outsiders)), len(outsiders)), ReachShare: fig(ratio(outsideMsgs, msgs), len(outsiders)),
			CrossAnswers: fig(float64(cross), len(crossPeople)),
			Leaders:      fig(ratio(leaders, len(dept.owners)), len(dept.owners)),
		}
	}
	type pair struct{ from, to string }
	answers, answerPeople := map[pair]int{}, map[pair]map[string]bool{}
	var all, open int
	everyone := map[string]bool{}
	for _, l := range lines {
		if !counted(l) {
			continue
		}
		all++
		everyone[l.person] = true
		if weekOrg[l.dept].open || weekOrg[l.dept].sharedWith[l.room] != "" {
			open++
		}
		if l.answers < 0 || lines[l.answers].person == l.person {
			continue
		}
		for _, from := range of(l.person) {
			for _, to := range of(lines[l.answers].person) {
				k := pair{from, to}
				answers[k]++
				if answerPeople[k] == nil {
					answerPeople[k] = map[string]bool{}
				}
				answerPeople[k][l.person], answerPeople[k][lines[l.answers].person] = true, true
			}
		}
	}
	for k, n := range answers {
		if r.Answers[k.from] == nil {
			r.Answers[k.from] = map[string]insights.Figure{}
		}
		r.Answers[k.from][k.to] = fig(float64(n), len(answerPeople[k]))
	}
	r.OpenShare = fig(ratio(open, all), len(everyone))
	return r
}
