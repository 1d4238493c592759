// Package spaceindex holds the field indexes of CollaborationSpaces that the
// controllers list spaces by: by the backends they use, by their rooms' ids, and
// by the spaces their rooms are shared with. The manager's cache indexes them
// (Register); a reader of the API server, which indexes no spec or status field,
// filters by the same functions (Funcs).
package spaceindex

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// The indexes' names, as client.MatchingFields takes them.
const (
	// ChatBackend indexes spaces by the ChatBackend they use.
	ChatBackend = ".spec.chat.backendRef.name"
	// ForumBackend indexes spaces by the ForumBackend they use.
	ForumBackend = ".spec.forum.backendRef.name"
	// Rooms indexes spaces by the ids of their rooms (space room included), so a
	// change on the chat server finds the space that owns the room.
	Rooms = ".status.chat.roomIDs"
	// SharedWith indexes spaces by the spaces ("namespace/name") their rooms are
	// shared with, so a space that gets its chat space wakes those waiting for it.
	SharedWith = ".spec.chat.rooms.sharedWith"
)

// Funcs are the indexes' functions by name.
var Funcs = map[string]func(client.Object) []string{
	ChatBackend:  ChatBackendOf,
	ForumBackend: ForumBackendOf,
	Rooms:        RoomsOf,
	SharedWith:   SharedWithOf,
}

// Register adds every index to the manager's cache.
func Register(ctx context.Context, indexer client.FieldIndexer) error {
	for name, fn := range Funcs {
		if err := indexer.IndexField(ctx, &collabv1.CollaborationSpace{}, name, fn); err != nil {
			return err
		}
	}
	return nil
}

// ChatBackendOf is the ChatBackend a space uses.
func ChatBackendOf(obj client.Object) []string {
	space := obj.(*collabv1.CollaborationSpace)
	if space.Spec.Chat == nil || space.Spec.Chat.BackendRef == nil {
		return nil
	}
	return []string{space.Spec.Chat.BackendRef.Name}
}

// ForumBackendOf is the ForumBackend a space uses.
func ForumBackendOf(obj client.Object) []string {
	space := obj.(*collabv1.CollaborationSpace)
	if space.Spec.Forum == nil || space.Spec.Forum.BackendRef == nil {
		return nil
	}
	return []string{space.Spec.Forum.BackendRef.Name}
}

// RoomsOf are the ids of a space's rooms in its status, its chat space first.
func RoomsOf(obj client.Object) []string {
	space := obj.(*collabv1.CollaborationSpace)
	if space.Status.Chat == nil {
		return nil
	}
	ids := []string{space.Status.Chat.SpaceID}
	for _, r := range space.Status.Chat.Rooms {
		ids = append(ids, r.RoomID)
	}
	return ids
}

// SharedWithOf are the spaces, "namespace/name", a space's rooms are shared with.
func SharedWithOf(obj client.Object) []string {
	space := obj.(*collabv1.CollaborationSpace)
	if space.Spec.Chat == nil {
		return nil
	}
	var keys []string
	for _, r := range space.Spec.Chat.Rooms {
		for _, ref := range r.SharedWith {
			keys = append(keys, ref.Namespace+"/"+ref.Name)
		}
	}
	return keys
}

// HoldsChat and HoldsForum report whether a space recorded rooms, or a shared
// forum's categories and groups, on the backend it names.
func HoldsChat(space *collabv1.CollaborationSpace) bool { return space.Status.Chat != nil }

// HoldsForum: see HoldsChat.
func HoldsForum(space *collabv1.CollaborationSpace) bool { return space.Status.Forum != nil }

// ChatSpaceID is the id of a space's chat space room, "" before it has one.
func ChatSpaceID(s *collabv1.CollaborationSpace) string {
	if s.Status.Chat == nil {
		return ""
	}
	return s.Status.Chat.SpaceID
}
