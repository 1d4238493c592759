package matrix

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/opencommons/collab-operator/internal/chat"
)

// Delete purges the room with Dendrite's admin API when the account is a server
// admin; otherwise (another server, or no admin rights) it unpublishes the room,
// removes its aliases, removes every member it may and leaves, which is as close
// to deleting as the client-server API gets. A room the operator is not in counts
// as deleted, so Delete is idempotent.
func (c *Client) Delete(ctx context.Context, roomID string) error {
	in, err := c.inRoom(ctx, roomID)
	if err != nil || !in {
		return err
	}
	err = c.purge(ctx, roomID)
	if err == nil {
		return nil
	}
	if !purgeUnavailable(err) {
		return fmt.Errorf("cannot purge room %s: %w", roomID, err)
	}
	return c.evacuate(ctx, roomID)
}

// inRoom reports whether the operator is joined to the room.
func (c *Client) inRoom(ctx context.Context, roomID string) (bool, error) {
	self, err := c.self(ctx)
	if err != nil {
		return false, err
	}
	var m struct {
		Membership string `json:"membership"`
	}
	err = c.getState(ctx, roomID, evMember, self, &m)
	if gone(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot read the operator's membership of room %s: %w", roomID, err)
	}
	return m.Membership == string(chat.MembershipJoin), nil
}

func (c *Client) purge(ctx context.Context, roomID string) error {
	return c.do(ctx, call{method: http.MethodPost, op: "purgeRoom",
		path: "/_dendrite/admin/purgeRoom/" + url.PathEscape(roomID), body: struct{}{}}, nil)
}

// purgeUnavailable: the account is no admin, or the server is not Dendrite.
func purgeUnavailable(err error) bool {
	return errors.Is(err, chat.ErrForbidden) || errors.Is(err, chat.ErrNotFound) ||
		hasCode(err, "M_UNRECOGNIZED")
}

// evacuate empties and leaves a room that cannot be purged. Users whose power
// level is not below the operator's cannot be removed and stay.
func (c *Client) evacuate(ctx context.Context, roomID string) error {
	room, err := c.observeRoom(ctx, roomID)
	if err != nil {
		return err
	}
	self, err := c.self(ctx)
	if err != nil {
		return err
	}
	actions := []chat.Action{chat.SetPublished{Published: false}}
	for u := range room.Members {
		if u != self && room.Joined(u) && room.PowerLevels.UserLevel(u) < room.PowerLevels.UserLevel(self) {
			actions = append(actions, chat.Kick{UserID: u, Reason: "the space was deleted"})
		}
	}
	if err := c.Update(ctx, roomID, actions); err != nil {
		return err
	}
	if err := c.removeAliases(ctx, roomID); err != nil {
		return err
	}
	return c.membership(ctx, roomID, "leave", struct{}{})
}
