// Package matrixuser is a person on a Matrix homeserver, for integration tests that
// check outcomes the way a user would see them in their chat client.
package matrixuser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
)

// User is one logged-in account.
type User struct {
	ID      string
	baseURL string
	token   string
	http    *http.Client
}

// Error is a Matrix error answer.
type Error struct {
	Status  int
	Code    string `json:"errcode"`
	Message string `json:"error"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// New returns a user acting with an access token.
func New(baseURL, userID, token string) *User {
	return &User{ID: userID, baseURL: baseURL, token: token, http: &http.Client{}}
}

var txn atomic.Int64

const v3 = "/_matrix/client/v3"

// Join joins a room by id or alias.
func (u *User) Join(ctx context.Context, roomIDOrAlias string) error {
	return u.do(ctx, http.MethodPost, v3+"/join/"+url.PathEscape(roomIDOrAlias), struct{}{}, nil)
}

// Send posts a text message.
func (u *User) Send(ctx context.Context, roomID, text string) error {
	path := fmt.Sprintf("%s/rooms/%s/send/m.room.message/t%d", v3, url.PathEscape(roomID), txn.Add(1))
	return u.do(ctx, http.MethodPut, path, map[string]string{"msgtype": "m.text", "body": text}, nil)
}

// SetTopic changes a room's topic, as a person with the power to would.
func (u *User) SetTopic(ctx context.Context, roomID, topic string) error {
	return u.do(ctx, http.MethodPut, v3+"/rooms/"+url.PathEscape(roomID)+"/state/m.room.topic/",
		map[string]string{"topic": topic}, nil)
}

// SetState sends a state event, as a person with the power to (or without it,
// to show the server refuses).
func (u *User) SetState(ctx context.Context, roomID, eventType, stateKey string, content any) error {
	path := v3 + "/rooms/" + url.PathEscape(roomID) + "/state/" + url.PathEscape(eventType) + "/" + url.PathEscape(stateKey)
	return u.do(ctx, http.MethodPut, path, content, nil)
}

// CreateRoom creates a room with the given createRoom body and returns its id.
func (u *User) CreateRoom(ctx context.Context, body map[string]any) (string, error) {
	var out struct {
		RoomID string `json:"room_id"`
	}
	err := u.do(ctx, http.MethodPost, v3+"/createRoom", body, &out)
	return out.RoomID, err
}

// SetAlias points an alias at a room.
func (u *User) SetAlias(ctx context.Context, alias, roomID string) error {
	return u.do(ctx, http.MethodPut, v3+"/directory/room/"+url.PathEscape(alias), map[string]string{"room_id": roomID}, nil)
}

// DeleteAlias removes an alias.
func (u *User) DeleteAlias(ctx context.Context, alias string) error {
	return u.do(ctx, http.MethodDelete, v3+"/directory/room/"+url.PathEscape(alias), nil, nil)
}

// StateEventID returns the id of a room's current state event of the given type
// and state key, as GET /state lists it.
func (u *User) StateEventID(ctx context.Context, roomID, eventType, stateKey string) (string, error) {
	var events []struct {
		Type     string `json:"type"`
		StateKey string `json:"state_key"`
		EventID  string `json:"event_id"`
	}
	if err := u.do(ctx, http.MethodGet, v3+"/rooms/"+url.PathEscape(roomID)+"/state", nil, &events); err != nil {
		return "", err
	}
	for _, ev := range events {
		if ev.Type == eventType && ev.StateKey == stateKey {
			return ev.EventID, nil
		}
	}
	return "", fmt.Errorf("room %s has no %s event with state key %q", roomID, eventType, stateKey)
}

// SetDisplayName changes the user's display name, which the server sends as a
// new m.room.member event in every room the user is in.
func (u *User) SetDisplayName(ctx context.Context, name string) error {
	return u.do(ctx, http.MethodPut, v3+"/profile/"+url.PathEscape(u.ID)+"/displayname",
		map[string]string{"displayname": name}, nil)
}

// Redact redacts an event, as a person with the room's redact level may.
func (u *User) Redact(ctx context.Context, roomID, eventID string) error {
	path := fmt.Sprintf("%s/rooms/%s/redact/%s/r%d", v3, url.PathEscape(roomID), url.PathEscape(eventID), txn.Add(1))
	return u.do(ctx, http.MethodPut, path, map[string]string{"reason": "test"}, nil)
}

// Members returns the membership of every user in a room, as its state says.
func (u *User) Members(ctx context.Context, roomID string) (map[string]string, error) {
	var events []struct {
		Type     string `json:"type"`
		StateKey string `json:"state_key"`
		Content  struct {
			Membership string `json:"membership"`
		} `json:"content"`
	}
	if err := u.do(ctx, http.MethodGet, v3+"/rooms/"+url.PathEscape(roomID)+"/state", nil, &events); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, ev := range events {
		if ev.Type == "m.room.member" {
			out[ev.StateKey] = ev.Content.Membership
		}
	}
	return out, nil
}

// State reads one state event's content.
func (u *User) State(ctx context.Context, roomID, eventType string, out any) error {
	return u.do(ctx, http.MethodGet, v3+"/rooms/"+url.PathEscape(roomID)+"/state/"+eventType+"/", nil, out)
}

// Messages returns the bodies of the room's text messages, newest first.
func (u *User) Messages(ctx context.Context, roomID string) ([]string, error) {
	var out struct {
		Chunk []struct {
			Type    string `json:"type"`
			Content struct {
				Body string `json:"body"`
			} `json:"content"`
		} `json:"chunk"`
	}
	err := u.do(ctx, http.MethodGet, v3+"/rooms/"+url.PathEscape(roomID)+"/messages?dir=b&limit=100", nil, &out)
	var bodies []string
	for _, ev := range out.Chunk {
		if ev.Type == "m.room.message" {
			bodies = append(bodies, ev.Content.Body)
		}
	}
	return bodies, err
}

// Hierarchy returns the ids of the rooms the user sees in a space, the space included.
func (u *User) Hierarchy(ctx context.Context, spaceID string) (map[string]bool, error) {
	var out struct {
		Rooms []struct {
			RoomID string `json:"room_id"`
		} `json:"rooms"`
	}
	err := u.do(ctx, http.MethodGet, "/_matrix/client/v1/rooms/"+url.PathEscape(spaceID)+"/hierarchy", nil, &out)
	ids := map[string]bool{}
	for _, r := range out.Rooms {
		ids[r.RoomID] = true
	}
	return ids, err
}

// HierarchyRoom is one room of a /hierarchy answer as a client shows it.
type HierarchyRoom struct {
	Name string
	// Children are the room ids the room's m.space.child events list.
	Children map[string]bool
}

// HierarchyRooms returns the rooms the user sees in a space, the space
// included, by id, with their names and child links.
func (u *User) HierarchyRooms(ctx context.Context, spaceID string) (map[string]HierarchyRoom, error) {
	var out struct {
		Rooms []struct {
			RoomID        string `json:"room_id"`
			Name          string `json:"name"`
			ChildrenState []struct {
				StateKey string `json:"state_key"`
			} `json:"children_state"`
		} `json:"rooms"`
	}
	err := u.do(ctx, http.MethodGet, "/_matrix/client/v1/rooms/"+url.PathEscape(spaceID)+"/hierarchy", nil, &out)
	rooms := map[string]HierarchyRoom{}
	for _, r := range out.Rooms {
		room := HierarchyRoom{Name: r.Name, Children: map[string]bool{}}
		for _, c := range r.ChildrenState {
			room.Children[c.StateKey] = true
		}
		rooms[r.RoomID] = room
	}
	return rooms, err
}

// JoinedRooms lists the rooms the user is in.
func (u *User) JoinedRooms(ctx context.Context) ([]string, error) {
	var out struct {
		Rooms []string `json:"joined_rooms"`
	}
	err := u.do(ctx, http.MethodGet, v3+"/joined_rooms", nil, &out)
	return out.Rooms, err
}

// ResolveAlias returns the room an alias points at.
func (u *User) ResolveAlias(ctx context.Context, alias string) (string, error) {
	var out struct {
		RoomID string `json:"room_id"`
	}
	err := u.do(ctx, http.MethodGet, v3+"/directory/room/"+url.PathEscape(alias), nil, &out)
	return out.RoomID, err
}

func (u *User) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.baseURL+path, rd)
	if err != nil {
		return err
	}
	if u.token != "" { // logging in
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := u.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		_ = json.Unmarshal(data, e)
		return e
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Token is the user's access token, e.g. to store in a ChatBackend's Secret.
func (u *User) Token() string { return u.token }
