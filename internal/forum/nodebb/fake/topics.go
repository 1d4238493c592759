package fake

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

// post is a post of a topic; a topic is the posts sharing its tid, its first
// the main post.
type post struct {
	pid, tid, cid, uid int64
	timestamp          int64 // ms since the epoch
	deleted            bool
	main               bool
}

// recentPerPage is the page size of /api/recent/posts (postsController).
const recentPerPage = 20

// monthMS is the "month" term of posts.getRecentPosts.
const monthMS = 2592000000

// createTopic is POST /api/v3/topics (api/topics.js create): a topic and its
// main post, by the caller, in a category where it may create topics. It
// answers the topic's data.
func createTopic(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) || !requireFields(w, q, "cid", "title", "content") {
		return
	}
	cid, _ := toInt(q.body["cid"])
	if st.cats[cid] == nil {
		apiError(w, q.r, http.StatusBadRequest, "[[error:no-category]]", nil)
		return
	}
	if !st.can(q.uid, cid, "topics:create") {
		apiError(w, q.r, http.StatusForbidden, "[[error:no-privileges]]", nil)
		return
	}
	st.nextTID++
	p := st.addPost(st.nextTID, cid, q.uid, true)
	ok(w, q.r, map[string]any{"tid": p.tid, "cid": cid, "uid": q.uid, "mainPid": p.pid,
		"title": str(q.body["title"]), "timestamp": p.timestamp})
}

// replyTopic is POST /api/v3/topics/{tid} (api/topics.js reply): a post by the
// caller where it may reply. It answers the post's data.
func replyTopic(st *state, w http.ResponseWriter, q *request) {
	if !requireLogin(w, q) || !requireFields(w, q, "content") {
		return
	}
	tid, _ := strconv.ParseInt(q.param("tid"), 10, 64)
	i := slices.IndexFunc(st.posts, func(p *post) bool { return p.tid == tid })
	if i < 0 {
		apiError(w, q.r, http.StatusBadRequest, "[[error:no-topic]]", nil)
		return
	}
	cid := st.posts[i].cid
	if !st.can(q.uid, cid, "topics:reply") {
		apiError(w, q.r, http.StatusForbidden, "[[error:no-privileges]]", nil)
		return
	}
	p := st.addPost(tid, cid, q.uid, false)
	ok(w, q.r, map[string]any{"pid": p.pid, "tid": tid, "uid": q.uid, "timestamp": p.timestamp})
}

func (st *state) addPost(tid, cid, uid int64, main bool) *post {
	st.nextPID++
	p := &post{pid: st.nextPID, tid: tid, cid: cid, uid: uid, timestamp: time.Now().UnixMilli(), main: main}
	st.posts = append(st.posts, p)
	return p
}

// recentPosts is GET /api/recent/posts/{term} (posts.getRecentPosts): a page
// of 20 posts, newest first, within the term, cut before the posts of
// categories the caller may not read are dropped. It answers the bare array.
func recentPosts(st *state, w http.ResponseWriter, q *request) {
	page, _ := strconv.Atoi(q.r.URL.Query().Get("page"))
	page = max(page, 1)
	var since int64
	if q.param("term") == "month" {
		since = time.Now().UnixMilli() - monthMS
	}
	var inTerm []*post
	for i := len(st.posts) - 1; i >= 0; i-- {
		if st.posts[i].timestamp >= since {
			inTerm = append(inTerm, st.posts[i])
		}
	}
	start := min((page-1)*recentPerPage, len(inTerm))
	out := []any{}
	for _, p := range inTerm[start:min(start+recentPerPage, len(inTerm))] {
		if !st.can(q.uid, p.cid, "topics:read") {
			continue
		}
		out = append(out, map[string]any{
			"pid": p.pid, "tid": p.tid, "uid": p.uid, "timestamp": p.timestamp, "deleted": p.deleted,
			"isMainPost": p.main, "content": "(the fake keeps no content)",
			"topic": map[string]any{"tid": p.tid, "cid": p.cid}, "category": map[string]any{"cid": p.cid},
		})
	}
	writeJSON(w, http.StatusOK, out)
}
