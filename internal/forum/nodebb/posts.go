package nodebb

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/opencommons/collab-operator/internal/forum"
)

var _ forum.PostReader = &Client{}

// postSummary is what RecentPosts reads of a post summary
// (posts.getPostSummaryByPids); its content is never decoded.
type postSummary struct {
	PID        int64 `json:"pid"`
	TID        int64 `json:"tid"`
	UID        int64 `json:"uid"`
	Timestamp  int64 `json:"timestamp"`
	Deleted    bool  `json:"deleted"`
	IsMainPost bool  `json:"isMainPost"`
	Category   *struct {
		CID int64 `json:"cid"`
	} `json:"category"`
}

// RecentPosts reads GET /api/recent/posts/month, 20 posts a page, newest first,
// until a post older than since or an empty page. NodeBB drops the posts of
// categories the caller may not read after cutting a page, so a short page is
// not the end.
func (c *Client) RecentPosts(ctx context.Context, since time.Time, maxPages int) ([]forum.Post, bool, error) {
	var out []forum.Post
	for page := 1; page <= maxPages; page++ {
		var summaries []postSummary
		cl := call{method: http.MethodGet, op: "recentPosts", path: "/api/recent/posts/month",
			query: url.Values{"page": {strconv.Itoa(page)}}}
		if err := c.do(ctx, cl, &summaries); err != nil {
			return out, false, err
		}
		if len(summaries) == 0 {
			return out, true, nil
		}
		for _, s := range summaries {
			at := time.UnixMilli(s.Timestamp).UTC()
			if at.Before(since) {
				return out, true, nil
			}
			if s.Deleted || s.Category == nil {
				continue
			}
			out = append(out, forum.Post{ID: s.PID, Topic: s.TID, Category: s.Category.CID, UID: s.UID, At: at, TopicStart: s.IsMainPost})
		}
	}
	return out, false, nil
}
