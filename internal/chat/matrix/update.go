package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/opencommons/collab-operator/internal/chat"
)

// Update applies the actions in order. A failing action does not stop the ones
// after it (one user without an account must not keep the topic from being
// fixed); all failures are returned together.
func (c *Client) Update(ctx context.Context, roomID string, actions []chat.Action) error {
	var errs []error
	for _, a := range actions {
		if err := c.apply(ctx, roomID, a); err != nil {
			errs = append(errs, fmt.Errorf("cannot %s in room %s: %w", a, roomID, err))
			if ctx.Err() != nil {
				break
			}
		}
	}
	return errors.Join(errs...)
}

func (c *Client) apply(ctx context.Context, roomID string, a chat.Action) error {
	switch a := a.(type) {
	case chat.SetName:
		return c.putState(ctx, roomID, evName, "", map[string]string{"name": a.Name})
	case chat.SetTopic:
		return c.putState(ctx, roomID, evTopic, "", map[string]string{"topic": a.Topic})
	case chat.SetJoinRules:
		return c.putState(ctx, roomID, evJoinRules, "", joinRules(a.JoinRule, a.AllowRoomIDs))
	case chat.SetPowerLevels:
		return c.setPowerLevels(ctx, roomID, a.PowerLevels)
	case chat.SetPublished:
		return c.setPublished(ctx, roomID, a.Published)
	case chat.SetWorldReadable:
		return c.putState(ctx, roomID, evHistoryVisibility, "", historyVisibility(a.WorldReadable))
	case chat.Invite:
		return c.membership(ctx, roomID, "invite", map[string]string{"user_id": a.UserID})
	case chat.Kick:
		return c.membership(ctx, roomID, "kick", map[string]string{"user_id": a.UserID, "reason": a.Reason})
	case chat.AddChild:
		return c.putState(ctx, roomID, evSpaceChild, a.RoomID, spaceLink{Via: c.via(), Suggested: true})
	case chat.RemoveChild:
		return c.putState(ctx, roomID, evSpaceChild, a.RoomID, struct{}{})
	case chat.SetParent:
		return c.putState(ctx, roomID, evSpaceParent, a.SpaceID, spaceLink{Via: c.via(), Canonical: true})
	case chat.SetCanonicalAlias:
		return c.putState(ctx, roomID, evCanonicalAlias, "", map[string]string{"alias": a.Alias})
	case chat.SetOwner:
		return c.putState(ctx, roomID, chat.OwnerEventType, "", ownerContent{Owner: a.Owner})
	default:
		return fmt.Errorf("matrix: unsupported action %T", a)
	}
}

func (c *Client) putState(ctx context.Context, roomID, eventType, stateKey string, content any) error {
	return c.do(ctx, call{method: http.MethodPut, op: "putState", path: statePath(roomID, eventType, stateKey), body: content}, nil)
}

func (c *Client) getState(ctx context.Context, roomID, eventType, stateKey string, out any) error {
	return c.do(ctx, call{method: http.MethodGet, op: "getStateEvent", path: statePath(roomID, eventType, stateKey)}, out)
}

// setPowerLevels reads the current event and replaces only the fields the
// operator models, so keys it does not know (e.g. "notifications") survive.
func (c *Client) setPowerLevels(ctx context.Context, roomID string, pl chat.PowerLevels) error {
	content := map[string]json.RawMessage{}
	if err := c.getState(ctx, roomID, evPowerLevels, "", &content); err != nil && !errors.Is(err, chat.ErrNotFound) {
		return err
	}
	for k, v := range managedPowerLevels(pl) {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		content[k] = b
	}
	return c.putState(ctx, roomID, evPowerLevels, "", content)
}

func (c *Client) setPublished(ctx context.Context, roomID string, published bool) error {
	v := "private"
	if published {
		v = "public"
	}
	return c.do(ctx, call{method: http.MethodPut, op: "putVisibility", path: directoryListPath(roomID),
		body: map[string]string{"visibility": v}}, nil)
}

// SetAlias points a free alias at the room. Matrix answers 409 when the alias
// exists; it is then left alone unless it already points at the room.
func (c *Client) SetAlias(ctx context.Context, aliasLocalpart, roomID string) error {
	alias := c.alias(aliasLocalpart)
	err := c.do(ctx, call{method: http.MethodPut, op: "putAlias", path: aliasPath(alias),
		body: map[string]string{"room_id": roomID}}, nil)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusConflict {
		return err
	}
	target, rerr := c.resolve(ctx, alias)
	if rerr != nil {
		return rerr
	}
	if target == roomID {
		return nil
	}
	return fmt.Errorf("alias %s points to room %s: %w", alias, target, chat.ErrAliasConflict)
}

// membership posts to /rooms/{id}/{invite|kick|leave}.
func (c *Client) membership(ctx context.Context, roomID, what string, body any) error {
	return c.do(ctx, call{method: http.MethodPost, op: what, path: roomPath(roomID, what), body: body}, nil)
}
