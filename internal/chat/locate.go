package chat

import (
	"context"
	"errors"
	"fmt"
)

// Found says how Locate found a room.
type Found int

const (
	// FoundNone: the room does not exist yet; the caller creates it.
	FoundNone Found = iota
	// FoundByID: by the id the space's status records, which is authoritative.
	FoundByID
	// FoundByAlias: by its alias, after a pass that made it stopped before
	// recording its id.
	FoundByAlias
	// FoundByLegacyAlias: by an alias an earlier version of the operator gave it;
	// Locate has pointed the current alias at it.
	FoundByLegacyAlias
)

// Lookup says where a room may be besides its spec's alias.
type Lookup struct {
	// KnownID is the room's id from status. When set it is authoritative: an
	// alias that now points elsewhere is reported, never followed.
	KnownID string
	// LegacyAliases are alias local parts earlier versions gave the room, tried
	// when neither the id nor the alias finds it.
	LegacyAliases []string
	// Operator is the operator's own user id, the only account whose rooms and
	// owner markers count (CheckOwner).
	Operator string
}

// Location is what Locate learned besides the room.
type Location struct {
	Found Found
	// Lost is set when the room recorded in status can no longer be read by the
	// operator (purged, or the operator was removed from it).
	Lost bool
	// Realiased is set when Locate pointed the spec's free alias at the room.
	Realiased bool
	// AliasElsewhere is the room the spec's alias points to instead of the
	// room found by id: drift to report, not a reason to adopt.
	AliasElsewhere string
}

// Locate finds the room a spec describes: by the id in status, else by the
// spec's alias, else by a legacy alias, and proves the operator made it for
// spec.Owner (CheckOwner) before returning it. A room that holds the alias but
// is not provably the operator's is an error wrapping ErrAliasConflict. It
// returns (nil, Location{Found: FoundNone}, nil) when the room must be created.
func Locate(ctx context.Context, c Client, spec RoomSpec, l Lookup) (*ObservedRoom, Location, error) {
	var loc Location
	if l.KnownID != "" {
		room, err := locateByID(ctx, c, spec, l, &loc)
		if room != nil || err != nil {
			return room, loc, err
		}
	}
	room, err := c.Observe(ctx, spec.AliasLocalpart)
	if err != nil {
		return nil, loc, err
	}
	if room != nil {
		if err := checkLocated(room, spec.Owner, l.Operator, false); err != nil {
			return nil, loc, err
		}
		loc.Found = FoundByAlias
		return room, loc, nil
	}
	room, err = locateByLegacyAlias(ctx, c, spec, l)
	if room != nil {
		loc.Found, loc.Realiased = FoundByLegacyAlias, true
	}
	return room, loc, err
}

// locateByID reads the room recorded in status. It returns nil and sets
// loc.Lost when the operator can no longer read it.
func locateByID(ctx context.Context, c Client, spec RoomSpec, l Lookup, loc *Location) (*ObservedRoom, error) {
	target, err := c.ResolveAlias(ctx, spec.AliasLocalpart)
	if err != nil {
		return nil, err
	}
	room, err := c.ObserveID(ctx, l.KnownID)
	if errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotFound) {
		loc.Lost = true
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	room.Alias = spec.CanonicalAlias
	if err := checkLocated(room, spec.Owner, l.Operator, true); err != nil {
		return nil, fmt.Errorf("room %s recorded in status: %w", l.KnownID, err)
	}
	loc.Found = FoundByID
	switch target {
	case l.KnownID:
	case "":
		if err := c.SetAlias(ctx, spec.AliasLocalpart, l.KnownID); err != nil {
			return nil, fmt.Errorf("cannot point alias %s at room %s: %w", spec.AliasLocalpart, l.KnownID, err)
		}
		loc.Realiased = true
	default:
		loc.AliasElsewhere = target
	}
	return room, nil
}

// locateByLegacyAlias adopts a room an earlier version made under another alias,
// and points the current alias at it. A legacy alias held by a room that is not
// provably this space's is someone else's name, not a conflict: it is skipped.
func locateByLegacyAlias(ctx context.Context, c Client, spec RoomSpec, l Lookup) (*ObservedRoom, error) {
	for _, legacy := range l.LegacyAliases {
		if legacy == spec.AliasLocalpart {
			continue
		}
		room, err := c.Observe(ctx, legacy)
		if errors.Is(err, ErrAliasConflict) || (err == nil && room == nil) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if checkLocated(room, spec.Owner, l.Operator, false) != nil {
			continue
		}
		if err := c.SetAlias(ctx, spec.AliasLocalpart, room.RoomID); err != nil {
			return nil, fmt.Errorf("cannot point alias %s at room %s: %w", spec.AliasLocalpart, room.RoomID, err)
		}
		room.Alias = spec.CanonicalAlias
		return room, nil
	}
	return nil, nil
}

// checkLocated is CheckOwner, except for an owner marker someone redacted. Anyone
// at the room's redact level (a Moderator) can empty the marker: the event stays,
// sent by the operator, with no owner in it. Taking that for another space's room
// would stall the space and leave whoever redacted it at their level, so such a
// room is still this space's when something else only the operator writes says
// so:
//
//   - the room's creation event, sent by the operator, names owner; or
//   - the creation event names no one (it was redacted too, or the room predates
//     the field) and the room's id is the one this space's status records
//     (recorded): ids in status are the operator's own record, written when it
//     made the room for this space.
//
// A creation event naming another space always loses. A room found only by an
// alias, with neither marker nor creation event naming owner, is not adopted:
// anyone can point an alias at a room, so that would let another namespace take
// a room whose proof was redacted. The caller puts the marker back (the planner
// plans chat.SetOwner when the observed owner differs).
func checkLocated(o *ObservedRoom, owner, operator string, recorded bool) error {
	err := CheckOwner(o, owner, operator)
	if err == nil || !o.MarkerRedacted(operator) || o.Creator != operator {
		return err
	}
	if o.CreatedFor == owner || (o.CreatedFor == "" && recorded) {
		return nil
	}
	return err
}
