package chatphase

import (
	"context"
	"fmt"
	"slices"
	"strings"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/spaceindex"
)

// sharedInto lists the spaces on the space's ChatBackend (from the cache) and
// returns the rooms the space room must list because other spaces share them
// with it, and those it must stop listing (sharedLinks).
func (r *Phase) sharedInto(ctx context.Context, space *collabv1.CollaborationSpace) (link, unlink []string, err error) {
	// All spaces, filtered here rather than by the field index: the dry run
	// (collabctl plan) lists through a client without the manager's indexes.
	var spaces collabv1.CollaborationSpaceList
	if err = r.List(ctx, &spaces); err != nil {
		return nil, nil, fmt.Errorf("cannot list the spaces sharing rooms with this one: %w", err)
	}
	backend := space.Spec.Chat.BackendRef.Name
	onBackend := slices.DeleteFunc(spaces.Items, func(s collabv1.CollaborationSpace) bool {
		return !slices.Equal(spaceindex.ChatBackendOf(&s), []string{backend})
	})
	link, unlink = sharedLinks(space, onBackend)
	return link, unlink, nil
}

// sharedLinks returns the rooms other spaces share with self, which self's
// space room lists as children so they show under it in every client (link),
// and the other spaces' rooms that are not shared with it (unlink): a room
// whose sharing stopped leaves self's space at its next pass.
//
// Only a room id the operator recorded in the sharing space's own status is
// ever linked, for a room whose sharedWith names self: naming another space in
// sharedWith lets a tenant offer that space its own room, never put any other
// room into it. Rooms of Private spaces are not linked (they admit no one by
// sharing), nor are self's own rooms unlinked.
func sharedLinks(self *collabv1.CollaborationSpace, spaces []collabv1.CollaborationSpace) (link, unlink []string) {
	own := recordedRooms(self)
	linked, recorded := map[string]bool{}, map[string]bool{}
	for i := range spaces {
		other := &spaces[i]
		if other.Namespace == self.Namespace && other.Name == self.Name {
			continue
		}
		for _, id := range RoomsSharedBy(other)[self.Namespace+"/"+self.Name] {
			linked[id] = true
		}
		for id := range recordedRooms(other) {
			recorded[id] = true
		}
	}
	for id := range linked {
		if !own[id] {
			link = append(link, id)
		}
	}
	for id := range recorded {
		if !linked[id] && !own[id] {
			unlink = append(unlink, id)
		}
	}
	slices.Sort(link)
	slices.Sort(unlink)
	return link, unlink
}

// sharingMoved reports whether a space room's links differ from what other
// spaces' sharing asks for.
func sharingMoved(spaceRoom *chat.ObservedRoom, link, unlink []string) bool {
	return slices.ContainsFunc(link, func(id string) bool { return !spaceRoom.Children[id] }) ||
		slices.ContainsFunc(unlink, func(id string) bool { return spaceRoom.Children[id] })
}

// recordedRooms are the room ids a space's status records.
func recordedRooms(space *collabv1.CollaborationSpace) map[string]bool {
	ids := map[string]bool{}
	if space.Status.Chat != nil {
		for _, r := range space.Status.Chat.Rooms {
			if r.RoomID != "" {
				ids[r.RoomID] = true
			}
		}
	}
	return ids
}

// sharedMembers returns the users joined or invited to the space rooms, other
// than the department's own, that a room's allow list admits: the members of
// the departments it is shared with, whom an Authoritative space never
// removes. Only Authoritative spaces ask, and each space room is read once a
// pass (seen). A space room that cannot be read fails the pass rather than
// let anyone be removed.
func (p *chatPass) sharedMembers(ctx context.Context, spec chat.RoomSpec, own string, seen map[string][]string) ([]string, error) {
	var out []string
	for _, id := range spec.AllowRoomIDs {
		if id == own {
			continue
		}
		users, ok := seen[id]
		if !ok {
			room, err := p.Client.ObserveID(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("cannot read who is in shared space %s: %w", id, err)
			}
			for u := range room.Members {
				if room.Joined(u) {
					users = append(users, u)
				}
			}
			seen[id] = users
		}
		out = append(out, users...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// RoomsSharedBy maps each space ("namespace/name") a space's rooms are shared
// with to the ids of those rooms, as the space's status records them.
func RoomsSharedBy(space *collabv1.CollaborationSpace) map[string][]string {
	if space.Spec.Chat == nil || space.Status.Chat == nil || space.Spec.Visibility == collabv1.VisibilityPrivate {
		return nil
	}
	out := map[string][]string{}
	for _, room := range space.Spec.Chat.Rooms {
		i := slices.IndexFunc(space.Status.Chat.Rooms, func(s collabv1.RoomStatus) bool { return s.Name == room.Name })
		if i < 0 || space.Status.Chat.Rooms[i].RoomID == "" {
			continue
		}
		for _, ref := range room.SharedWith {
			k := ref.Namespace + "/" + ref.Name
			out[k] = append(out[k], space.Status.Chat.Rooms[i].RoomID)
		}
	}
	return out
}

// SharedRoomsKey is what the spaces a space shares rooms with see of it.
func SharedRoomsKey(space *collabv1.CollaborationSpace) string {
	var parts []string
	for target, ids := range RoomsSharedBy(space) {
		parts = append(parts, target+"="+strings.Join(ids, ","))
	}
	slices.Sort(parts)
	return strings.Join(parts, ";")
}
