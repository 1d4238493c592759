package reaper

import (
	"strings"

	"github.com/opencommons/collab-operator/internal/chat"
)

// Whose a room is, by its owner marker and its alias.

// reapAction is the action of a reaper event: one per room, so the events API
// does not fold two rooms' events into one series that shows only the first.
func reapAction(room *chat.ObservedRoom) string {
	return "Reap " + room.RoomID
}

// ownerOf names the space a room was made for, as its marker or creation says.
func ownerOf(room *chat.ObservedRoom) string {
	if room.Owner != "" {
		return room.Owner
	}
	return room.CreatedFor
}

// inOwnersNamespace reports whether an alias local part lies in the namespace of
// owner ("namespace/name"): aliases are <namespace>.<space>[.<room>], and
// namespaces hold no dots.
func inOwnersNamespace(localpart, owner string) bool {
	ns, _, ok := strings.Cut(owner, "/")
	return ok && ns != "" && strings.HasPrefix(localpart, ns+".")
}

// aliasLocalpart returns the local part of #<localpart>:<serverName>.
func aliasLocalpart(alias, serverName string) (string, bool) {
	rest, ok := strings.CutPrefix(alias, "#")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, ":"+serverName)
}
