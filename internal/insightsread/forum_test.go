package insightsread

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/engines"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/testing/chattest"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// forumAPI calls a NodeBB's API with a master token, acting for uid.
type forumAPI struct {
	url, token string
}

func (f forumAPI) post(t *testing.T, uid int64, path string, body map[string]any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s%s?_uid=%d", f.url, path, uid), bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var env struct{ Response map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: HTTP %d, %v", path, resp.StatusCode, err)
	}
	return env.Response
}

func (f forumAPI) category(t *testing.T, name string, parent int64) int64 {
	return int64(f.post(t, 1, "/api/v3/categories", map[string]any{"name": name, "parentCid": parent})["cid"].(float64))
}

func (f forumAPI) topic(t *testing.T, uid, cid int64) int64 {
	return int64(f.post(t, uid, "/api/v3/topics", map[string]any{"cid": cid, "title": "a question", "content": "what shall we do?"})["tid"].(float64))
}

func (f forumAPI) reply(t *testing.T, uid, tid int64) {
	f.post(t, uid, fmt.Sprintf("/api/v3/topics/%d", tid), map[string]any{"content": "this, I think"})
}

// startNodeBB runs a NodeBB stand-in on loopback with a master token.
func startNodeBB(t *testing.T, token string) *fake.Server {
	srv := fake.NewServer(token)
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// TestTheForumsPostsCount: the topics and posts in each space's categories of
// a shared forum (its department category and those under it, as its status
// names them) and of a space's deployed forum, read from NodeBB, resting on
// the people who made them; a category of no space, and an opted-out space's,
// count nowhere.
func TestTheForumsPostsCount(t *testing.T) {
	const token = "forum-master-token"
	srv := startNodeBB(t, token)
	api := forumAPI{url: srv.URL(), token: token}
	research, rfcs := api.category(t, "Research", 0), int64(0)
	rfcs = api.category(t, "RFCs", research)
	sales, legal, elsewhere := api.category(t, "Sales", 0), api.category(t, "Legal", 0), api.category(t, "Elsewhere", 0)
	var people []int64
	for i := range 6 {
		people = append(people, srv.AddUser(fmt.Sprintf("person%d", i)))
	}
	question := api.topic(t, people[0], rfcs) // one topic in research's RFCs, five answers
	for _, uid := range people[1:] {
		api.reply(t, uid, question)
	}
	api.topic(t, people[1], research) // and one in its department category
	api.topic(t, people[0], sales)
	api.topic(t, people[2], legal)
	api.topic(t, people[3], elsewhere)

	// design runs its own forum, reached at the endpoint override, with the
	// token the operator keeps in the forum's admin Secret.
	deployed := startNodeBB(t, "deployed-token")
	ownAPI := forumAPI{url: deployed.URL(), token: "deployed-token"}
	ideas := ownAPI.category(t, "Ideas", 0)
	var designers []int64
	for i := range 5 {
		designers = append(designers, deployed.AddUser(fmt.Sprintf("designer%d", i)))
	}
	idea := ownAPI.topic(t, designers[0], ideas)
	for _, uid := range designers {
		ownAPI.reply(t, uid, idea)
	}

	space := func(name string, forum *collabv1.ForumStatus) *collabv1.CollaborationSpace {
		s := &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: name},
			Spec: collabv1.CollaborationSpaceSpec{Department: name, Members: []collabv1.Member{
				{Kind: collabv1.SubjectUser, Name: "ana", Role: collabv1.RoleOwner}},
				Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: "chat"}}},
			Status: collabv1.CollaborationSpaceStatus{Chat: &collabv1.ChatStatus{SpaceID: "!" + name + ":x"}, Forum: forum}}
		if name == "legal" {
			s.Spec.Insights = &collabv1.SpaceInsights{Enabled: new(bool)}
		}
		return s
	}
	c := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(
		chattest.Backend(),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "collab-system", Name: "chat-creds"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "collab-system", Name: "forum-creds"},
			Data: map[string][]byte{"token": []byte(token), "uid": []byte("1")}},
		&collabv1.ForumBackend{ObjectMeta: metav1.ObjectMeta{Name: "company-forum"},
			Spec: collabv1.ForumBackendSpec{NodeBB: &collabv1.NodeBBBackend{URL: srv.URL(),
				CredentialsSecretRef: collabv1.SecretReference{Namespace: "collab-system", Name: "forum-creds"}}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "research"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "sales"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "legal"}},
		space("research", &collabv1.ForumStatus{Backend: "company-forum", ParentCategoryID: research,
			Categories: []collabv1.CategoryStatus{{Name: "RFCs", ID: rfcs}}}),
		space("sales", &collabv1.ForumStatus{Backend: "company-forum", ParentCategoryID: sales}),
		space("legal", &collabv1.ForumStatus{Backend: "company-forum", ParentCategoryID: legal}),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "design"}},
		space("design", &collabv1.ForumStatus{Engine: collabv1.ForumEngineNodeBB,
			Categories: []collabv1.CategoryStatus{{Name: "Ideas", ID: ideas}}}),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "design", Name: adminSecretName(t, "design")},
			Data: map[string][]byte{"token": []byte("deployed-token"), "uid": []byte("1")}},
	).WithStatusSubresource(&collabv1.CollaborationSpace{}).Build()

	in, err := Read(context.Background(), c, time.Now().Add(-time.Hour), Options{Chat: &chattest.Connector{C: &histories{}},
		CredentialsNamespace: "collab-system", Forum: engines.Forum(), ForumEndpointOverride: deployed.URL()})
	if err != nil || len(in.Unread) != 0 {
		t.Fatalf("Read = unread %v, %v", in.Unread, err)
	}
	w := insights.Window{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Minute)}
	r := insights.Compute(in.Org, in.Messages, w, insights.DefaultMinPeople)
	insights.CountPosts(&r, in.Org, in.Posts, w, insights.DefaultMinPeople)
	got := map[string]*insights.ForumFigures{}
	for key, f := range r.Spaces {
		got[key] = f.Forum
	}
	want := map[string]*insights.ForumFigures{
		// 2 topics by 2 people: hidden; 7 posts by the 6 people.
		"research/research": {Topics: insights.Figure{People: 2, Suppressed: true}, Posts: insights.Figure{Value: 7, People: 6}},
		"sales/sales":       {Topics: insights.Figure{People: 1, Suppressed: true}, Posts: insights.Figure{People: 1, Suppressed: true}},
		// its own forum: one topic, six posts by its five designers
		"design/design": {Topics: insights.Figure{People: 1, Suppressed: true}, Posts: insights.Figure{Value: 6, People: 5}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the forum's figures (-want +got):\n%s", diff)
	}
	if len(in.Posts) != 16 {
		t.Errorf("%d posts read, want the shared forum's 10 and design's 6", len(in.Posts))
	}
}

// adminSecretName is the name of a space's deployed NodeBB's admin Secret.
func adminSecretName(t *testing.T, space string) string {
	s := &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Name: space}}
	s.Status.Forum = &collabv1.ForumStatus{Engine: collabv1.ForumEngineNodeBB}
	c, err := engines.Forum().ForDeploy(s)
	if err != nil {
		t.Fatal(err)
	}
	return c.Deployer().AdminSecretName(space)
}
