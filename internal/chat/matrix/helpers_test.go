package matrix

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
)

// user is a person on the homeserver, doing what they would do in a Matrix client.
type user struct {
	ID string
	*Client
}

func (u *user) join(ctx context.Context, roomIDOrAlias string) error {
	return u.do(ctx, call{method: http.MethodPost, op: "join", path: v3 + "/join/" + url.PathEscape(roomIDOrAlias), body: struct{}{}}, nil)
}

func (u *user) leave(ctx context.Context, roomID string) error {
	return u.membership(ctx, roomID, "leave", struct{}{})
}

var txn atomic.Int64

func (u *user) send(ctx context.Context, roomID, text string) error {
	path := roomPath(roomID, "send", "m.room.message", fmt.Sprintf("t%d", txn.Add(1)))
	return u.do(ctx, call{method: http.MethodPut, op: "send", path: path,
		body: map[string]string{"msgtype": "m.text", "body": text}}, nil)
}

// messages returns the bodies of the room's text messages, newest first.
func (u *user) messages(ctx context.Context, roomID string) ([]string, error) {
	var out struct {
		Chunk []struct {
			Type    string `json:"type"`
			Content struct {
				Body string `json:"body"`
			} `json:"content"`
		} `json:"chunk"`
	}
	err := u.do(ctx, call{method: http.MethodGet, op: "messages", path: roomPath(roomID, "messages") + "?dir=b&limit=100"}, &out)
	var bodies []string
	for _, ev := range out.Chunk {
		if ev.Type == "m.room.message" {
			bodies = append(bodies, ev.Content.Body)
		}
	}
	return bodies, err
}

// hierarchy returns the ids of the rooms a user sees in a space, the space included.
func (u *user) hierarchy(ctx context.Context, spaceID string) (map[string]bool, error) {
	var out struct {
		Rooms []struct {
			RoomID string `json:"room_id"`
		} `json:"rooms"`
	}
	err := u.do(ctx, call{method: http.MethodGet, op: "hierarchy", path: "/_matrix/client/v1/rooms/" + url.PathEscape(spaceID) + "/hierarchy"}, &out)
	ids := map[string]bool{}
	for _, r := range out.Rooms {
		ids[r.RoomID] = true
	}
	return ids, err
}

// eventually retries f until it succeeds or timeout passes; Dendrite serves
// messages from its sync component, which catches up asynchronously.
func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// operatorClient is a fresh client for the admin operator account, logging in
// with its password; obs (if not nil) sees its requests.
func operatorClient(t *testing.T, obs RequestObserver) *Client {
	t.Helper()
	s := homeserver(t)
	cl, err := New(Config{HomeserverURL: s.URL, ServerName: s.ServerName, Username: "operator", Password: "password-operator", Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// space is a CollaborationSpace as a department would write it.
func space(name string, vis collabv1.Visibility, members []collabv1.Member, rooms ...collabv1.Room) *collabv1.CollaborationSpace {
	cs := &collabv1.CollaborationSpace{Spec: collabv1.CollaborationSpaceSpec{
		Department: "Dept " + name, Description: "Where " + name + " talks", Visibility: vis,
		Members: members, Chat: &collabv1.ChatSpec{Rooms: rooms},
	}}
	cs.Name, cs.Namespace = name, "dept-"+name
	return cs
}

func userMember(name string, role collabv1.Role) collabv1.Member {
	return collabv1.Member{Kind: collabv1.SubjectUser, Name: name, Role: role}
}

// provisioned is what the controller would record in status.
type provisioned struct {
	spaceID string
	rooms   map[string]string // room name → id
	specs   map[string]chat.RoomSpec
	space   chat.RoomSpec
}

// planner plans for the test homeserver, whose server name is localhost.
// planner invites people to each room, so that the tests here, which exercise
// rooms one by one, have them join a room without its space first.
var planner = plan.New(plan.Config{ServerName: "localhost", InvitePerRoom: true})

// provision does what the controller does for a space: create the space room,
// then each room inside it, then link the rooms from the space.
func provision(t *testing.T, c *Client, cs *collabv1.CollaborationSpace, shared map[string]string) provisioned {
	t.Helper()
	ctx := testContext(t)
	in := chat.DesiredInput{OperatorUserID: hs.operator.ID, SharedSpaceIDs: shared}
	layout, err := planner.Layout(cs, in)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := c.Create(ctx, layout.SpaceRoom)
	if err != nil {
		t.Fatalf("Create space: %v", err)
	}
	roomSpecs, err := layout.Rooms(sp.RoomID)
	if err != nil {
		t.Fatal(err)
	}
	p := provisioned{spaceID: sp.RoomID, rooms: map[string]string{}, specs: map[string]chat.RoomSpec{}}
	children := []string{}
	for i, spec := range roomSpecs {
		r, err := c.Create(ctx, spec)
		if err != nil {
			t.Fatalf("Create room %s: %v", spec.AliasLocalpart, err)
		}
		name := cs.Spec.Chat.Rooms[i].Name
		p.rooms[name], p.specs[name] = r.RoomID, spec
		children = append(children, r.RoomID)
	}
	spaceSpec := layout.Listing(children, nil, nil)
	p.space = spaceSpec
	reconcile(t, c, spaceSpec, chat.PlanOptions{OperatorUserID: hs.operator.ID})
	return p
}

// reconcile observes a room and applies the plan, as one controller pass; it
// returns the plan's report.
func reconcile(t *testing.T, c *Client, spec chat.RoomSpec, opts chat.PlanOptions) chat.PlanReport {
	t.Helper()
	ctx := testContext(t)
	o, err := c.Observe(ctx, spec.AliasLocalpart)
	if err != nil || o == nil {
		t.Fatalf("Observe %s = %v, %v", spec.AliasLocalpart, o, err)
	}
	actions, report := planner.Plan(spec, *o, opts)
	if err := c.Update(ctx, o.RoomID, actions); err != nil {
		t.Fatalf("Update %s: %v", spec.AliasLocalpart, err)
	}
	return report
}

// wantCode fails unless err is a Matrix error with the given errcode.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: got error %v, want %s", what, err, code)
	}
}

// recorder remembers "op status" of every request, to check which path a
// method took.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) observe(_, op string, status int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf("%s %d", op, status))
}

func (r *recorder) has(call string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.calls, call)
}
