package matrix

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/opencommons/collab-operator/internal/chat"
)

// Archive closes the room but keeps it and its history (history visibility is
// "shared", so members, and former members up to when they left, can still read
// it). Each step is skipped when already done, so repeating Archive is cheap and
// a crash half way is finished by the next call. The owner marker is flagged
// first and the aliases removed last, so a half archived room can still be found
// by its alias and is recognisable as such (ObservedRoom.Archived).
func (c *Client) Archive(ctx context.Context, roomID, parentSpaceID string) error {
	room, err := c.observeRoom(ctx, roomID)
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.Update(ctx, roomID, archiveActions(room)); err != nil {
		return err
	}
	if !room.Archived {
		if err := c.putState(ctx, roomID, chat.OwnerEventType, "", ownerContent{Owner: room.Owner, Archived: true}); err != nil {
			return fmt.Errorf("cannot mark room %s archived: %w", roomID, err)
		}
	}
	if parentSpaceID != "" {
		if err := c.unlinkChild(ctx, parentSpaceID, roomID); err != nil {
			return err
		}
	}
	return c.removeAliases(ctx, roomID)
}

// archiveActions closes the room: invite-only, posting for owners only, out of
// the directory, renamed.
func archiveActions(room *chat.ObservedRoom) []chat.Action {
	var out []chat.Action
	if !strings.HasPrefix(room.Name, chat.ArchivedNamePrefix) {
		out = append(out, chat.SetName{Name: chat.ArchivedNamePrefix + room.Name})
	}
	if room.JoinRule != chat.JoinRuleInvite {
		out = append(out, chat.SetJoinRules{JoinRule: chat.JoinRuleInvite})
	}
	if room.PowerLevels.EventsDefault < 100 {
		pl := room.PowerLevels
		pl.EventsDefault = 100
		out = append(out, chat.SetPowerLevels{PowerLevels: pl})
	}
	if room.Published {
		out = append(out, chat.SetPublished{Published: false})
	}
	return out
}

// unlinkChild removes the m.space.child link from the parent space, if present.
// A parent the operator can no longer see is left alone.
func (c *Client) unlinkChild(ctx context.Context, spaceID, roomID string) error {
	var link spaceLink
	err := c.getState(ctx, spaceID, evSpaceChild, roomID, &link)
	if gone(err) || (err == nil && len(link.Via) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read the link from space %s to room %s: %w", spaceID, roomID, err)
	}
	if err := c.putState(ctx, spaceID, evSpaceChild, roomID, struct{}{}); err != nil {
		return fmt.Errorf("cannot unlink room %s from space %s: %w", roomID, spaceID, err)
	}
	return nil
}

// removeAliases deletes the room's local aliases and clears its canonical alias,
// so the names are free for a new room and clients stop showing them.
func (c *Client) removeAliases(ctx context.Context, roomID string) error {
	var out struct {
		Aliases []string `json:"aliases"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, op: "getAliases", path: roomPath(roomID, "aliases")}, &out); err != nil {
		return fmt.Errorf("cannot list aliases of room %s: %w", roomID, err)
	}
	for _, a := range out.Aliases {
		if !strings.HasSuffix(a, ":"+c.serverName) {
			continue
		}
		err := c.do(ctx, call{method: http.MethodDelete, op: "deleteAlias", path: aliasPath(a)}, nil)
		if err != nil && !errors.Is(err, chat.ErrNotFound) {
			return fmt.Errorf("cannot remove alias %s: %w", a, err)
		}
	}
	return c.clearCanonicalAlias(ctx, roomID)
}

func (c *Client) clearCanonicalAlias(ctx context.Context, roomID string) error {
	var canonical struct {
		Alias      string   `json:"alias"`
		AltAliases []string `json:"alt_aliases"`
	}
	err := c.getState(ctx, roomID, evCanonicalAlias, "", &canonical)
	if errors.Is(err, chat.ErrNotFound) || (err == nil && canonical.Alias == "" && len(canonical.AltAliases) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.putState(ctx, roomID, evCanonicalAlias, "", struct{}{})
}

// gone reports an error saying the room does not exist or the operator is no
// longer in it: nothing more it can do there.
func gone(err error) bool {
	return errors.Is(err, chat.ErrForbidden) || errors.Is(err, chat.ErrNotFound)
}
