package forum

import (
	"context"
	"time"
)

// Post is a forum post as the openness insights count it: who posted in which
// category when, and whether it opened its topic; never what it says.
type Post struct {
	ID, Topic, Category int64
	// UID is the poster's account, 0 for a guest or a deleted account.
	UID int64
	At  time.Time
	// TopicStart: the post opened its topic.
	TopicStart bool
}

// PostReader is a Client that reads the forum's recent posts.
type PostReader interface {
	// RecentPosts reads the posts made since a time (at most 30 days back),
	// newest first, in at most maxPages requests; complete is false when the
	// pages ran out first. Deleted posts are left out.
	RecentPosts(ctx context.Context, since time.Time, maxPages int) (posts []Post, complete bool, err error)
}
