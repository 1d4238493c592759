package insights

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestCountPosts: the topics and posts of each space's categories within the
// window, resting on the people who made them; a category of no space, an
// opted-out space's and a post outside the window count nowhere.
func TestCountPosts(t *testing.T) {
	org := testOrg()
	cat := func(id int64) CategoryRef { return CategoryRef{Forum: "company", ID: id} }
	org.Categories = map[CategoryRef]string{cat(1): "eng", cat(2): "eng", cat(3): "mkt", cat(4): "hr"}
	week := Window{From: day0, To: day0.Add(7 * 24 * time.Hour)}
	post := func(c int64, who string, start bool, at time.Time) Post {
		return Post{Category: cat(c), Poster: "company/" + who, At: at, TopicStart: start}
	}
	var posts []Post
	for i := range 6 { // six people answer a topic opened in each of eng's categories
		posts = append(posts, post(1+int64(i%2), fmt.Sprint(i), false, day0.Add(time.Hour)))
	}
	posts = append(posts,
		post(1, "a", true, day0), post(2, "b", true, day0),
		post(3, "c", true, day0), post(3, "c", false, day0.Add(time.Minute)),
		post(4, "h", true, day0),                            // hr opted out
		post(9, "x", true, day0),                            // a category of no space
		post(1, "late", true, week.To),                      // after the window
		post(3, "early", false, day0.Add(-time.Nanosecond)), // before it
	)
	cases := map[string]struct {
		minPeople int
		want      map[string]*ForumFigures
	}{
		"everything shown": {minPeople: 1, want: map[string]*ForumFigures{
			"eng": {Topics: n(2, 2), Posts: n(8, 8)}, "mkt": {Topics: n(1, 1), Posts: n(2, 1)}, "commons": nil}},
		"figures over fewer than five people hidden": {minPeople: 5, want: map[string]*ForumFigures{
			"eng": {Topics: hidden(2), Posts: n(8, 8)}, "mkt": {Topics: hidden(1), Posts: hidden(1)}, "commons": nil}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := CountTallies(org, nil, week, tc.minPeople)
			CountPosts(&r, org, posts, week, tc.minPeople)
			got := map[string]*ForumFigures{}
			for key, f := range r.Spaces {
				got[key] = f.Forum
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("forum figures (-want +got):\n%s", diff)
			}
		})
	}
}
