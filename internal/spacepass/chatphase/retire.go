package chatphase

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// Retiring rooms: those the spec no longer names, and all of them when the
// space goes, as its deletion policy says.

// retireRemovedRooms carries out the deletion policy on rooms that were in the status
// but are no longer declared: by default they are archived, never silently dropped.
func (r *Phase) retireRemovedRooms(ctx context.Context, p *chatPass, status *collabv1.ChatStatus) error {
	old := p.s.Space.Status.Chat
	if old == nil {
		return nil
	}
	kept := map[string]bool{}
	for _, room := range status.Rooms {
		kept[room.RoomID] = true
	}
	for _, room := range old.Rooms {
		if kept[room.RoomID] {
			continue
		}
		if err := r.retireRoom(ctx, p.ChatConnection, p.s.Space, room, status.SpaceID); err != nil {
			return err
		}
	}
	return nil
}

// retireRoom archives, deletes or lets go of one room by the space's deletionPolicy.
func (r *Phase) retireRoom(ctx context.Context, conn *connect.ChatConnection, space *collabv1.CollaborationSpace,
	room collabv1.RoomStatus, parentID string) error {
	switch scope.DeletionPolicyOf(space) {
	case collabv1.DeletionPolicyRetain:
		return nil
	case collabv1.DeletionPolicyDelete:
		// A purged room would otherwise stay listed in its space.
		if parentID != "" {
			if err := conn.Client.Update(ctx, parentID, []chat.Action{chat.RemoveChild{RoomID: room.RoomID}}); err != nil {
				return fmt.Errorf("cannot unlink room %s from its space: %w", room.Name, err)
			}
		}
		if err := conn.Client.Delete(ctx, room.RoomID); err != nil {
			return fmt.Errorf("cannot delete room %s: %w", room.Name, err)
		}
		r.RecordChange(space, collabv1.ReasonRoomDeleted, "Delete", "Deleted room %s (%s)", room.Name, room.RoomID)
	default:
		if err := conn.Client.Archive(ctx, room.RoomID, parentID); err != nil {
			return fmt.Errorf("cannot archive room %s: %w", room.Name, err)
		}
		r.RecordChange(space, collabv1.ReasonRoomArchived, "Archive", "Archived room %s (%s); its history is kept", room.Name, room.RoomID)
	}
	return nil
}

// retireAllRooms carries out the deletion policy on the rooms and the space room of
// a space that no longer lists any room, as if it were deleted, and forgets them.
func (r *Phase) retireAllRooms(ctx context.Context, s *scope.Scope) error {
	if s.Space.Status.Chat == nil {
		return nil
	}
	if err := r.Delete(ctx, s, scope.DeletionPolicyOf(s.Space)); err != nil {
		return err
	}
	s.Space.Status.Chat = nil
	return nil
}

// Delete carries out the deletion policy on every room of the space, then on the
// space room itself. A backend that no longer exists cannot be touched: the rooms are
// left as they are, and a warning says so.
func (r *Phase) Delete(ctx context.Context, s *scope.Scope, policy collabv1.DeletionPolicy) error {
	space := s.Space
	st := space.Status.Chat
	if st == nil || policy == collabv1.DeletionPolicyRetain || space.Spec.Chat == nil || space.Spec.Chat.BackendRef == nil {
		return nil
	}
	conn, err := connect.ToChat(ctx, r.Client, r.Credentials(), r.Connector, space.Spec.Chat.BackendRef.Name)
	if client.IgnoreNotFound(errors.Unwrap(err)) == nil && err != nil {
		r.RecordWarning(space, collabv1.ReasonChatBackendMissing, "Delete", "Rooms left as they are: %v", err)
		return nil
	}
	if err != nil {
		return s.Fail(collabv1.ChatReadyCondition, collabv1.ReasonChatFailed, err)
	}
	for _, room := range st.Rooms {
		if err := r.retireRoom(ctx, conn, space, room, st.SpaceID); err != nil {
			return s.Fail(collabv1.ChatReadyCondition, collabv1.ReasonChatFailed, err)
		}
	}
	if st.SpaceID != "" {
		if err := r.retireRoom(ctx, conn, space, collabv1.RoomStatus{Name: space.Name, RoomID: st.SpaceID}, ""); err != nil {
			return s.Fail(collabv1.ChatReadyCondition, collabv1.ReasonChatFailed, err)
		}
	}
	return nil
}

// LeftBehind names what a space has on its chat server, by id.
func LeftBehind(space *collabv1.CollaborationSpace) string {
	st := space.Status.Chat
	if st == nil {
		return "nothing recorded in status"
	}
	var items []string
	if st.SpaceID != "" {
		items = append(items, "space room "+st.SpaceID)
	}
	for _, room := range st.Rooms {
		items = append(items, fmt.Sprintf("room %s (%s)", room.Name, room.RoomID))
	}
	where := ""
	if c := space.Spec.Chat; c != nil && c.BackendRef != nil {
		where = "on ChatBackend " + c.BackendRef.Name + ": "
	}
	return where + scope.BoundedList(items)
}
