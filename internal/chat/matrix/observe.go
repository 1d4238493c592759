package matrix

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/opencommons/collab-operator/internal/chat"
)

// Observe resolves the alias and reads the room's state and directory listing,
// with GET requests only.
func (c *Client) Observe(ctx context.Context, aliasLocalpart string) (*chat.ObservedRoom, error) {
	alias := c.alias(aliasLocalpart)
	roomID, err := c.resolve(ctx, alias)
	if err != nil || roomID == "" {
		return nil, err
	}
	room, err := c.observeRoom(ctx, roomID)
	if errors.Is(err, chat.ErrForbidden) {
		// The operator never leaves a room it keeps an alias for, so a room it is
		// not in was made by someone else.
		return nil, fmt.Errorf("alias %s points to room %s, which the operator did not create: %w: %w",
			alias, roomID, chat.ErrAliasConflict, err)
	}
	if err != nil {
		return nil, err
	}
	room.Alias = alias
	return room, nil
}

// ObserveID reads a room by id, without looking up an alias.
func (c *Client) ObserveID(ctx context.Context, roomID string) (*chat.ObservedRoom, error) {
	return c.observeRoom(ctx, roomID)
}

// ResolveAlias returns the room id the alias points to, "" when it is unknown.
func (c *Client) ResolveAlias(ctx context.Context, aliasLocalpart string) (string, error) {
	return c.resolve(ctx, c.alias(aliasLocalpart))
}

// resolve returns the room id an alias points to, "" when the alias is unknown.
// Only the Matrix M_NOT_FOUND counts as unknown: a bare 404 more likely means the
// homeserver URL is wrong, which must not look like "create the room".
func (c *Client) resolve(ctx context.Context, alias string) (string, error) {
	var out struct {
		RoomID string `json:"room_id"`
	}
	err := c.do(ctx, call{method: http.MethodGet, op: "resolveAlias", path: aliasPath(alias)}, &out)
	if hasCode(err, "M_NOT_FOUND") {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cannot resolve alias %s: %w", alias, err)
	}
	return out.RoomID, nil
}

// observeRoom reads a room by id. The operator created the room, so it is a
// member; if it is not (it was removed, or the alias points to someone else's
// room) the error says so and wraps chat.ErrForbidden.
func (c *Client) observeRoom(ctx context.Context, roomID string) (*chat.ObservedRoom, error) {
	var events []stateEvent
	err := c.do(ctx, call{method: http.MethodGet, op: "getState", path: roomPath(roomID, "state")}, &events)
	if errors.Is(err, chat.ErrForbidden) {
		return nil, fmt.Errorf("cannot read room %s: the operator's account is not in it: %w", roomID, err)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read room %s: %w", roomID, err)
	}
	room := parseState(roomID, events)
	if room.Published, err = c.published(ctx, roomID); err != nil {
		return nil, err
	}
	return room, nil
}

func (c *Client) published(ctx context.Context, roomID string) (bool, error) {
	var out struct {
		Visibility string `json:"visibility"`
	}
	err := c.do(ctx, call{method: http.MethodGet, op: "getVisibility", path: directoryListPath(roomID)}, &out)
	if err != nil {
		return false, fmt.Errorf("cannot read directory visibility of room %s: %w", roomID, err)
	}
	return out.Visibility == "public", nil
}

// JoinedRooms lists the rooms the operator's account is in.
func (c *Client) JoinedRooms(ctx context.Context) ([]string, error) {
	var out struct {
		Rooms []string `json:"joined_rooms"`
	}
	err := c.do(ctx, call{method: http.MethodGet, op: "joinedRooms", path: v3 + "/joined_rooms"}, &out)
	return out.Rooms, err
}
