package insights

// CountPosts adds to r the figures of the spaces' forum categories: the topics
// opened and posts made within w, each resting on the distinct people who made
// them, suppressed below minPeople. A space of Org.Categories that opted out,
// or has no figures in r, gets none.
func CountPosts(r *Report, org Org, posts []Post, w Window, minPeople int) {
	minPeople = max(minPeople, 1)
	type tally struct {
		topics, posts    int
		openers, posters people
	}
	spaces := map[string]*tally{}
	for _, key := range org.Categories {
		if _, counted := r.Spaces[key]; counted {
			spaces[key] = &tally{openers: people{}, posters: people{}}
		}
	}
	for _, p := range posts {
		t := spaces[org.Categories[p.Category]]
		if t == nil || !w.holds(p.At) {
			continue
		}
		t.posts++
		t.posters.add(p.Poster)
		if p.TopicStart {
			t.topics++
			t.openers.add(p.Poster)
		}
	}
	fig := func(value, restsOn int) Figure {
		if restsOn > 0 && restsOn < minPeople {
			return Figure{People: restsOn, Suppressed: true}
		}
		return Figure{Value: float64(value), People: restsOn}
	}
	for key, t := range spaces {
		f := r.Spaces[key]
		f.Forum = &ForumFigures{Topics: fig(t.topics, len(t.openers)), Posts: fig(t.posts, len(t.posters))}
		r.Spaces[key] = f
	}
}
