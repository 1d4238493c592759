package matrix

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/opencommons/collab-operator/internal/chat"
)

// roomVersion 10 supports restricted join rules (8+) and is Dendrite's default.
const roomVersion = "10"

// createRoomRequest is the body of POST /createRoom.
type createRoomRequest struct {
	Visibility      string         `json:"visibility"`
	Preset          string         `json:"preset"`
	RoomAliasName   string         `json:"room_alias_name"`
	Name            string         `json:"name,omitempty"`
	Topic           string         `json:"topic,omitempty"`
	Invite          []string       `json:"invite,omitempty"`
	RoomVersion     string         `json:"room_version"`
	CreationContent map[string]any `json:"creation_content,omitempty"`
	InitialState    []initialState `json:"initial_state"`
	PowerLevels     map[string]any `json:"power_level_content_override"`
}

type initialState struct {
	Type     string `json:"type"`
	StateKey string `json:"state_key"`
	Content  any    `json:"content"`
}

// Create makes the room in one createRoom call, or adopts the room that already
// holds the alias if the operator made it for the same space.
func (c *Client) Create(ctx context.Context, spec chat.RoomSpec) (*chat.ObservedRoom, error) {
	self, err := c.self(ctx)
	if err != nil {
		return nil, err
	}
	var out struct {
		RoomID string `json:"room_id"`
	}
	req := c.createRequest(spec, self)
	err = c.do(ctx, call{method: http.MethodPost, op: "createRoom", path: v3 + "/createRoom", body: req}, &out)
	if hasCode(err, "M_ROOM_IN_USE") {
		return c.adopt(ctx, spec, self)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot create room %s: %w", c.alias(spec.AliasLocalpart), err)
	}
	return chat.CreatedRoom(out.RoomID, c.alias(spec.AliasLocalpart), spec, self), nil
}

// adopt returns the room an earlier pass created, unless it is not provably the
// operator's room for the same space.
func (c *Client) adopt(ctx context.Context, spec chat.RoomSpec, self string) (*chat.ObservedRoom, error) {
	room, err := c.Observe(ctx, spec.AliasLocalpart)
	if err != nil {
		return nil, fmt.Errorf("alias %s is taken and its room cannot be read: %w", c.alias(spec.AliasLocalpart), err)
	}
	if room == nil {
		return nil, fmt.Errorf("alias %s was taken, then released: retry", c.alias(spec.AliasLocalpart))
	}
	if err := chat.CheckOwner(room, spec.Owner, self); err != nil {
		return nil, err
	}
	return room, nil
}

// createRequest puts every managed piece of state into the one call, so a room
// is never seen half made. The operator is kept at power 100 whatever the spec
// says, or it would lock itself out of its own room.
func (c *Client) createRequest(spec chat.RoomSpec, self string) createRoomRequest {
	req := createRoomRequest{
		Visibility:    "private",
		Preset:        "private_chat",
		RoomAliasName: spec.AliasLocalpart,
		Name:          spec.Name,
		Topic:         spec.Topic,
		Invite:        slices.DeleteFunc(slices.Clone(spec.Invitations()), func(u string) bool { return u == self }),
		RoomVersion:   roomVersion,
		InitialState:  c.initialState(spec),
		PowerLevels:   managedPowerLevels(chat.WithOperator(spec.PowerLevels, self)),
	}
	if spec.Published {
		req.Visibility = "public"
	}
	// The owner goes into the creation event too: a createRoom cut off after
	// the room was made but before its state leaves a room with nothing else to
	// say whose it is (see the ChatBackend's reaper).
	req.CreationContent = map[string]any{chat.OwnerEventType: spec.Owner}
	if spec.Space {
		req.CreationContent["type"] = roomTypeSpace
	}
	return req
}

// initialState: history stays readable by members after they leave or the room
// is archived ("shared", or "world_readable" for rooms anyone may browse), guests are kept out, and the owner marker goes in
// with the room so an adopted room can always be told apart.
func (c *Client) initialState(spec chat.RoomSpec) []initialState {
	st := []initialState{
		{Type: evJoinRules, Content: joinRules(spec.JoinRule, spec.AllowRoomIDs)},
		{Type: evHistoryVisibility, Content: historyVisibility(spec.WorldReadable)},
		{Type: evGuestAccess, Content: map[string]string{"guest_access": "forbidden"}},
		{Type: chat.OwnerEventType, Content: ownerContent{Owner: spec.Owner}},
	}
	if spec.Parent != "" {
		st = append(st, initialState{Type: evSpaceParent, StateKey: spec.Parent,
			Content: spaceLink{Via: c.via(), Canonical: true}})
	}
	for _, child := range spec.Children {
		st = append(st, initialState{Type: evSpaceChild, StateKey: child, Content: spaceLink{Via: c.via(), Suggested: true}})
	}
	return st
}
