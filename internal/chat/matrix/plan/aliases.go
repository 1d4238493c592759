package plan

// Aliases are scoped by namespace, so no tenant can claim a name another will
// need. The parts are separated by dots, which neither namespaces nor space or
// room names may contain (both are DNS labels), so every alias parses back to
// exactly one (namespace, space, room): "eng" + room "general-x" and
// "eng-general" + room "x" can no longer meet, and the same space name in two
// namespaces gives two aliases. Server admins reserve the pattern for the
// operator's account (docs/security.md).

// SpaceAlias is the alias local part of a space's space room:
// <namespace>.<space>.
func SpaceAlias(namespace, space string) string { return namespace + "." + space }

// RoomAlias is the alias local part of one of a space's rooms:
// <namespace>.<space>.<room>.
func RoomAlias(namespace, space, room string) string {
	return SpaceAlias(namespace, space) + "." + room
}

// LegacySpaceAlias implements chat.Planner.
func (*Planner) LegacySpaceAlias(space string) string { return LegacySpaceAlias(space) }

// LegacyRoomAlias implements chat.Planner.
func (*Planner) LegacyRoomAlias(space, room string) string { return LegacyRoomAlias(space, room) }

// LegacySpaceAlias and LegacyRoomAlias are the aliases of operator versions
// before namespaced aliases: #<space> and #<space>-<room>. They are only ever
// used to find a space's own rooms again (with proof of ownership) and move
// them to the current aliases.
func LegacySpaceAlias(space string) string { return space }

// LegacyRoomAlias: see LegacySpaceAlias.
func LegacyRoomAlias(space, room string) string { return space + "-" + room }

// FullAlias is #<localpart>:<serverName>, or "" when the server name is unknown.
func FullAlias(localpart, serverName string) string {
	if serverName == "" {
		return ""
	}
	return "#" + localpart + ":" + serverName
}
