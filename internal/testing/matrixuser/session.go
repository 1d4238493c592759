package matrixuser

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Login logs a person in with their password, as a client does.
func Login(ctx context.Context, baseURL, user, password string) (*User, error) {
	anon := New(baseURL, "", "")
	var out struct {
		UserID      string `json:"user_id"`
		AccessToken string `json:"access_token"`
	}
	err := anon.do(ctx, http.MethodPost, v3+"/login", map[string]any{
		"type":       "m.login.password",
		"identifier": map[string]string{"type": "m.id.user", "user": user},
		"password":   password,
	}, &out)
	if err != nil {
		return nil, err
	}
	return New(baseURL, out.UserID, out.AccessToken), nil
}

// Invitation is a room the user is invited to, as the client lists it.
type Invitation struct {
	RoomID, Name string
}

// Invitations lists the rooms the user is invited to, by name, from one
// initial /sync that carries no timeline.
func (u *User) Invitations(ctx context.Context) ([]Invitation, error) {
	var out struct {
		Rooms struct {
			Invite map[string]struct {
				InviteState struct {
					Events []struct {
						Type    string `json:"type"`
						Content struct {
							Name string `json:"name"`
						} `json:"content"`
					} `json:"events"`
				} `json:"invite_state"`
			} `json:"invite"`
		} `json:"rooms"`
	}
	filter := url.QueryEscape(`{"room":{"timeline":{"limit":0},"ephemeral":{"types":[]}},"presence":{"types":[]}}`)
	if err := u.do(ctx, http.MethodGet, v3+"/sync?timeout=0&filter="+filter, nil, &out); err != nil {
		return nil, err
	}
	var invites []Invitation
	for id, room := range out.Rooms.Invite {
		inv := Invitation{RoomID: id}
		for _, ev := range room.InviteState.Events {
			if ev.Type == "m.room.name" {
				inv.Name = ev.Content.Name
			}
		}
		invites = append(invites, inv)
	}
	slices.SortFunc(invites, func(a, b Invitation) int { return strings.Compare(a.Name+a.RoomID, b.Name+b.RoomID) })
	return invites, nil
}

// Say posts a text message, as a reply to the message answers unless it is
// "", and returns its event id.
func (u *User) Say(ctx context.Context, roomID, text, answers string) (string, error) {
	return u.SayAt(ctx, roomID, text, answers, time.Time{})
}

// SayAt is Say with the message dated at (when not zero): Dendrite takes a
// client's "ts" for the event's time, which lets a test play a known week of
// conversation in a minute.
func (u *User) SayAt(ctx context.Context, roomID, text, answers string, at time.Time) (string, error) {
	content := map[string]any{"msgtype": "m.text", "body": text}
	if answers != "" {
		content["m.relates_to"] = map[string]any{"m.in_reply_to": map[string]any{"event_id": answers}}
	}
	var out struct {
		EventID string `json:"event_id"`
	}
	path := fmt.Sprintf("%s/rooms/%s/send/m.room.message/t%d", v3, url.PathEscape(roomID), txn.Add(1))
	if !at.IsZero() {
		path += "?ts=" + strconv.FormatInt(at.UnixMilli(), 10)
	}
	// A server error is sent again with the same transaction id, as a
	// Matrix client does: the server keeps one message however many times it
	// sees the id (Dendrite on SQLite answers 500 now and then under load).
	var err error
	for attempt := range 3 {
		if err = u.do(ctx, http.MethodPut, path, content, &out); !serverError(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
	}
	return out.EventID, err
}

// serverError reports whether err is the server's 5xx answer.
func serverError(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status >= 500
}
