package dryrun

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/opencommons/collab-operator/internal/chat"
)

// NewRoomIDPrefix starts the made-up id of a room a plan would create.
const NewRoomIDPrefix = "(new) "

// Chat is a chat.Client that reads through to a real one and records writes.
type Chat struct {
	real       chat.Client
	rec        *Recorder
	serverName string
	self       string
}

var _ chat.Client = (*Chat)(nil)

// NewChat wraps real; serverName completes the aliases of rooms it would create.
func NewChat(real chat.Client, serverName string, rec *Recorder) *Chat {
	return &Chat{real: real, rec: rec, serverName: serverName}
}

// Observe reads the room and remembers its alias.
func (c *Chat) Observe(ctx context.Context, aliasLocalpart string) (*chat.ObservedRoom, error) {
	room, err := c.real.Observe(ctx, aliasLocalpart)
	if room != nil {
		c.rec.Name(room.RoomID, room.Alias)
	}
	return room, err
}

// ObserveID reads through and names the room by its canonical alias.
func (c *Chat) ObserveID(ctx context.Context, roomID string) (*chat.ObservedRoom, error) {
	room, err := c.real.ObserveID(ctx, roomID)
	if room != nil {
		c.rec.Name(room.RoomID, room.CanonicalAlias)
	}
	return room, err
}

// ResolveAlias reads through.
func (c *Chat) ResolveAlias(ctx context.Context, aliasLocalpart string) (string, error) {
	return c.real.ResolveAlias(ctx, aliasLocalpart)
}

// SetAlias records the alias pointed at the room.
func (c *Chat) SetAlias(_ context.Context, aliasLocalpart, roomID string) error {
	alias := "#" + aliasLocalpart + ":" + c.serverName
	c.rec.Add(Change{Backend: BackendChat, Verb: "set-alias", Target: c.rec.display(roomID), Object: alias})
	return nil
}

// Create records the room and returns it as the spec says, as the real Create does,
// with a made-up id so the rest of the pass can link it.
func (c *Chat) Create(ctx context.Context, spec chat.RoomSpec) (*chat.ObservedRoom, error) {
	alias := "#" + spec.AliasLocalpart + ":" + c.serverName
	id := NewRoomIDPrefix + alias
	c.rec.Name(id, alias)
	kind := "room"
	if spec.Space {
		kind = "space"
	}
	detail := fmt.Sprintf("%s %q, join rule %s", kind, spec.Name, spec.JoinRule)
	if spec.Topic != "" {
		detail += fmt.Sprintf(", topic %q", spec.Topic)
	}
	if spec.Published {
		detail += ", published"
	}
	if invite := spec.Invitations(); len(invite) > 0 {
		detail += ", inviting " + strings.Join(invite, ", ")
	} else if spec.OfferedInSpace && len(spec.Invite) > 0 {
		detail += ", offered in its space to " + strings.Join(spec.Invite, ", ")
	}
	c.rec.Add(Change{Backend: BackendChat, Verb: "create", Target: alias, Detail: c.rec.replaceIDs(detail)})

	// Mirror what the real Create returns (the spec with the operator joined at
	// power 100), so the rest of the pass plans against what will be there.
	self, err := c.Whoami(ctx)
	if err != nil {
		return nil, err
	}
	return chat.CreatedRoom(id, alias, spec, self), nil
}

// Update records each action as one change.
func (c *Chat) Update(_ context.Context, roomID string, actions []chat.Action) error {
	target := c.rec.display(roomID)
	for _, a := range actions {
		c.rec.Add(c.change(target, a))
	}
	return nil
}

// change describes one action on a room as a change of the plan.
func (c *Chat) change(target string, a chat.Action) Change {
	ch := Change{Backend: BackendChat, Target: target, Detail: c.rec.replaceIDs(a.String())}
	switch a := a.(type) {
	case chat.SetName:
		ch.Verb = "set-name"
	case chat.SetTopic:
		ch.Verb = "set-topic"
	case chat.SetJoinRules:
		ch.Verb = "set-join-rule"
	case chat.SetPowerLevels:
		ch.Verb = "set-power-levels"
		ch.Detail = powerLevelsDetail(a.PowerLevels)
	case chat.SetPublished:
		ch.Verb = "unpublish"
		if a.Published {
			ch.Verb = "publish"
		}
	case chat.SetWorldReadable:
		ch.Verb = "set-history-visibility"
	case chat.Invite:
		ch.Verb, ch.Object = "invite", a.UserID
	case chat.Kick:
		ch.Verb, ch.Object = "remove", a.UserID
	case chat.AddChild:
		ch.Verb, ch.Object = "link", c.rec.display(a.RoomID)
	case chat.RemoveChild:
		ch.Verb, ch.Object = "unlink", c.rec.display(a.RoomID)
	case chat.SetParent:
		ch.Verb, ch.Object = "set-parent", c.rec.display(a.SpaceID)
	case chat.SetCanonicalAlias:
		ch.Verb, ch.Object = "set-canonical-alias", a.Alias
	case chat.SetOwner:
		ch.Verb, ch.Object = "set-owner", a.Owner
	default:
		ch.Verb = "update"
	}
	return ch
}

func powerLevelsDetail(pl chat.PowerLevels) string {
	var users []string
	for _, u := range slices.Sorted(maps.Keys(pl.Users)) {
		users = append(users, fmt.Sprintf("%s=%d", u, pl.Users[u]))
	}
	return fmt.Sprintf("set power levels: %s; posting %d", strings.Join(users, ", "), pl.EventsDefault)
}

// Archive records the room's archiving.
func (c *Chat) Archive(_ context.Context, roomID, parentSpaceID string) error {
	detail := "rename to " + chat.ArchivedNamePrefix + "…, invite only, read only, history kept"
	if parentSpaceID != "" {
		detail += ", unlinked from " + c.rec.display(parentSpaceID)
	}
	c.rec.Add(Change{Backend: BackendChat, Verb: "archive", Target: c.rec.display(roomID), Detail: detail})
	return nil
}

// Delete records the room's deletion.
func (c *Chat) Delete(_ context.Context, roomID string) error {
	c.rec.Add(Change{Backend: BackendChat, Verb: "delete", Target: c.rec.display(roomID), Detail: "purge the room and its history"})
	return nil
}

// Whoami reads through, once.
func (c *Chat) Whoami(ctx context.Context) (string, error) {
	if c.self != "" {
		return c.self, nil
	}
	self, err := c.real.Whoami(ctx)
	c.self = self
	return self, err
}

// Versions reads through.
func (c *Chat) Versions(ctx context.Context) ([]string, error) { return c.real.Versions(ctx) }

// JoinedRooms reads through, when the real client lists rooms.
func (c *Chat) JoinedRooms(ctx context.Context) ([]string, error) {
	lister, ok := c.real.(chat.RoomLister)
	if !ok {
		return nil, fmt.Errorf("the chat client cannot list the operator's rooms")
	}
	return lister.JoinedRooms(ctx)
}
