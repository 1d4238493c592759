package plan

import (
	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

// DirectorySpaceOwner is the owner marker of a ChatBackend's directory space. It
// cannot clash with a CollaborationSpace's "namespace/name", as namespaces are
// lower case.
func DirectorySpaceOwner(backendName string) string { return "ChatBackend/" + backendName }

// Directory implements chat.Planner.
func (p *Planner) Directory(backend string, dir collabv1.DirectorySpace, operator string, children []string) chat.RoomSpec {
	return DesiredDirectory(backend, p.cfg.ServerName, dir, operator, children)
}

// DesiredDirectory is the organisation-wide directory space of a ChatBackend: a
// public, published space listing children (the Open department spaces). It is
// world readable: a homeserver answers /hierarchy to a non-member only for a
// room it joined or a world readable one, so this is what lets anyone with an
// account browse it before joining (Dendrite then lists its children links,
// and each Open space, world readable too, lists its rooms). Plan
// it with PruneChildren, so spaces that stop being Open leave it, and without
// Authoritative: it declares no members, and everyone may join it.
func DesiredDirectory(backendName, serverName string, dir collabv1.DirectorySpace, operator string, children []string) chat.RoomSpec {
	alias := dir.Alias
	if alias == "" {
		alias = "directory"
	}
	// Never nil: the directory's children are always managed, even when no
	// space is Open (nil would mean "leave the children alone").
	listed := append([]string{}, sortedUnique(children)...)
	return chat.RoomSpec{
		AliasLocalpart: alias,
		CanonicalAlias: FullAlias(alias, serverName),
		Name:           dir.Name,
		Space:          true,
		JoinRule:       chat.JoinRulePublic,
		Published:      true,
		WorldReadable:  true,
		PowerLevels:    powerLevels(nil, operator, LevelOperator),
		Owner:          DirectorySpaceOwner(backendName),
		Children:       listed,
	}
}
