package matrixuser

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
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
