// Package reaper finds the rooms interrupted creates left behind on a chat
// server and settles them under the ChatBackend's spec.reaper: adopted while
// their alias is free, deleted when provably unused duplicates, reported
// otherwise. ListOrphans is its dry run (collabctl orphans).
package reaper

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers/chatbackend/stream"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/spaceindex"
	"github.com/opencommons/collab-operator/internal/uninstall"
)

// Orphan reaping timings.
const (
	// defaultOrphanGrace is how old a room must be before the reaper judges it,
	// so a create still in flight is never taken for an orphan.
	defaultOrphanGrace = 2 * time.Minute
	// defaultReapInterval is how often a backend looks for orphans.
	defaultReapInterval = 5 * time.Minute
)

// Reaper finds the rooms an interrupted create left behind: createRoom made
// the room (with the operator's owner marker and its canonical alias) but the
// process died before the alias was stored, so nothing points at it, and the next
// pass made the room again. A room the operator created for a space, older than
// the grace period, that neither a space's status nor its alias points at, is an
// orphan: while its alias is free it is adopted (the alias is pointed at it, and
// the space finds it on its next pass); when the alias holds the operator's room
// for the same space, it is a duplicate and is deleted.
//
// Deleting a room on a server where the operator is an admin purges it, history
// and all, so the reaper deletes only what provably never held anything: a room
// anyone but the operator was ever a member of (a membership event of any kind:
// invited, joined, left, banned), or that a space ever recorded (its parent space
// room lists it), is reported (OrphanKept) and never touched, whatever its state
// says otherwise. The ChatBackend's spec.reaper narrows further what it may do
// (Report, Adopt, Delete) and caps deletions per hour. Each verdict is an event on
// the ChatBackend and a count in collab_orphan_rooms_total.
type Reaper struct {
	// Client lists the spaces and backends, whose status records the rooms
	// that are not orphans.
	Client   client.Client
	Recorder events.EventRecorder
	// Uninstall tells whether the operator is being uninstalled: the spaces
	// going away would then make every room look unclaimed.
	Uninstall uninstall.Check
	// Streams' queue wakes the space an adopted room belongs to; none when nil.
	Streams *stream.Streams
	// Grace is how old a room must be before it is judged (2m when 0);
	// Interval how often a backend is reaped (5m when 0).
	Grace, Interval time.Duration

	mu sync.Mutex
	// last is when each backend was last reaped; judged the rooms each backend
	// found not to be orphans (kept, reported, someone else's), so they are read
	// once; deleted when it deleted rooms in the last hour, for the cap.
	last    map[string]time.Time
	judged  map[string]map[string]bool
	deleted map[string][]time.Time
}

// Reaper defaults: what an unset spec.reaper means.
const (
	defaultReaperMode          = collabv1.ReaperModeDelete
	defaultMaxDeletionsPerHour = 10
)

// reaperPolicy is a backend's spec.reaper with its defaults filled in.
func reaperPolicy(backend *collabv1.ChatBackend) (collabv1.ReaperMode, int) {
	mode, max := defaultReaperMode, defaultMaxDeletionsPerHour
	if p := backend.Spec.Reaper; p != nil {
		if p.Mode != "" {
			mode = p.Mode
		}
		if p.MaxDeletionsPerHour != nil && *p.MaxDeletionsPerHour > 0 {
			max = int(*p.MaxDeletionsPerHour)
		}
	}
	return mode, max
}

// mayDelete reports whether a backend has deleted fewer than max rooms in the
// hour before now, and if so counts one more deletion at now.
func (o *Reaper) mayDelete(backend string, max int, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.deleted == nil {
		o.deleted = map[string][]time.Time{}
	}
	recent := o.deleted[backend][:0]
	for _, at := range o.deleted[backend] {
		if now.Sub(at) < time.Hour {
			recent = append(recent, at)
		}
	}
	o.deleted[backend] = recent
	if len(recent) >= max {
		return false
	}
	o.deleted[backend] = append(recent, now)
	return true
}

func (o *Reaper) due(backend string, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last == nil {
		o.last, o.judged = map[string]time.Time{}, map[string]map[string]bool{}
	}
	if now.Sub(o.last[backend]) < cmp.Or(o.Interval, defaultReapInterval) {
		return false
	}
	o.last[backend] = now
	return true
}

func (o *Reaper) isJudged(backend, room string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.judged[backend][room]
}

func (o *Reaper) judge(backend, room string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.judged[backend] == nil {
		o.judged[backend] = map[string]bool{}
	}
	o.judged[backend][room] = true
}

// Every is how often a backend is reaped.
func (r *Reaper) Every() time.Duration { return cmp.Or(r.Interval, defaultReapInterval) }

// Reap runs the reaper over a backend when it is due.
func (r *Reaper) Reap(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend) error {
	lister, ok := conn.Client.(chat.RoomLister)
	if !ok || !r.due(backend.Name, time.Now()) {
		return nil
	}
	joined, err := lister.JoinedRooms(ctx)
	if err != nil {
		return fmt.Errorf("cannot list the operator's rooms: %w", err)
	}
	known, err := r.knownRooms(ctx, backend)
	if err != nil {
		return err
	}
	if r.uninstalling(ctx) {
		return nil // the spaces going away would make every room look unclaimed
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Looking for rooms interrupted creates left behind", "joined", len(joined), "known", len(known))
	r.judgeRooms(ctx, conn, backend, joined, known)
	return nil
}

// judgeRooms judges the rooms of joined that no space records and that were not
// judged before, and returns the verdicts.
func (r *Reaper) judgeRooms(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend,
	joined []string, known map[string]bool) []OrphanVerdict {
	var verdicts []OrphanVerdict
	for _, id := range joined {
		if known[id] || r.isJudged(backend.Name, id) {
			continue
		}
		verdict, room, err := r.judgeRoom(ctx, conn, backend, id)
		if err != nil {
			ctrl.LoggerFrom(ctx).Info("Cannot judge a room the operator is in; trying again later", "room", id, "error", err.Error())
			verdict = "unknown: " + err.Error()
		}
		ctrl.LoggerFrom(ctx).V(1).Info("Judged a room no space records", "room", id, "verdict", verdict)
		v := OrphanVerdict{RoomID: id, Verdict: verdict, Action: orphanAction(verdict)}
		if room != nil {
			v.Alias, v.Owner = room.CanonicalAlias, ownerOf(room)
		}
		verdicts = append(verdicts, v)
	}
	return verdicts
}

// knownRooms are the rooms any space records, and every backend's directory: not
// only this backend's, since two ChatBackends may share a server and its account
// (one reserved for some departments, say), and each would otherwise take the
// other's rooms for unclaimed ones. Room ids name their server, so rooms of other
// servers never mix in.
func (r *Reaper) knownRooms(ctx context.Context, backend *collabv1.ChatBackend) (map[string]bool, error) {
	var spaces collabv1.CollaborationSpaceList // read only: the cache's own objects
	if err := r.Client.List(ctx, &spaces, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("cannot list spaces: %w", err)
	}
	var backends collabv1.ChatBackendList
	if err := r.Client.List(ctx, &backends); err != nil {
		return nil, fmt.Errorf("cannot list chat backends: %w", err)
	}
	// This backend's directory as this pass found it: the cache may not have it yet.
	known := map[string]bool{backend.Status.DirectorySpaceID: true}
	for i := range backends.Items {
		known[backends.Items[i].Status.DirectorySpaceID] = true
	}
	for i := range spaces.Items {
		for _, id := range spaceindex.RoomsOf(&spaces.Items[i]) {
			known[id] = true
		}
	}
	return known, nil
}

// judgeRoom reads one room no status points at, decides about it, and says
// what it decided.
func (r *Reaper) judgeRoom(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend,
	id string) (string, *chat.ObservedRoom, error) {
	room, err := conn.Client.ObserveID(ctx, id)
	if err != nil {
		return "", nil, err
	}
	verdict, err := r.judgeObserved(ctx, conn, backend, room)
	return verdict, room, err
}

// judgeObserved decides about a room as read.
func (r *Reaper) judgeObserved(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend,
	room *chat.ObservedRoom) (string, error) {
	id := room.RoomID
	// Age comes first: a createRoom in flight is joined before the rest of its
	// initial state is stored, so a young room read without its owner marker may
	// yet get one. Judged on that read, a room an interrupted create left behind
	// was taken for someone else's and never read again.
	if r.tooYoung(room) {
		return "too young: perhaps a create still in flight", nil
	}
	operator := backend.Status.UserID
	if room.Creator == operator && room.OwnerSender == "" && room.CreatedFor != "" {
		return r.removeHalfMade(ctx, conn, backend, room)
	}
	ours := room.Creator == operator && room.OwnerSender == operator && room.Owner != ""
	if !ours || room.Archived {
		r.judge(backend.Name, id) // not an interrupted create: never read again
		return "not an interrupted create", nil
	}
	if room.CanonicalAlias == "" {
		// Cut off after the marker but before the canonical alias: nothing says
		// which of its space's rooms it was to be, and the space made that room
		// again.
		return r.removeHalfMade(ctx, conn, backend, room)
	}
	return r.judgeByAlias(ctx, conn, backend, room)
}

// judgeByAlias decides about a room of the operator's that carries its owner
// marker and a canonical alias, by where that alias points.
func (r *Reaper) judgeByAlias(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend,
	room *chat.ObservedRoom) (string, error) {
	id := room.RoomID
	localpart, ok := r.ownAlias(conn, backend, room)
	if !ok {
		r.judge(backend.Name, id)
		return "its alias is outside its owner's namespace", nil
	}
	target, err := conn.Client.ResolveAlias(ctx, localpart)
	if err != nil {
		return "", err
	}
	switch target {
	case id:
		// Found by its alias, so not lost: its space records it on its next pass,
		// or it outlived its space (Retain, uninstall). Either way it is never
		// read again, so what the reaper costs does not grow with such rooms.
		r.judge(backend.Name, id)
		return "its alias points at it", nil
	case "":
		if mode, _ := reaperPolicy(backend); mode == collabv1.ReaperModeReport {
			return r.reportOrphan(backend, room, "would point alias "+room.CanonicalAlias+" back at it")
		}
		return "adopted", r.adoptOrphan(ctx, conn, backend, room, localpart)
	}
	return r.removeDuplicate(ctx, conn, backend, room, target)
}

// tooYoung reports whether a room is younger than the grace period, or of an age
// its state does not tell (no creation event read).
func (r *Reaper) tooYoung(room *chat.ObservedRoom) bool {
	return room.Created.IsZero() || time.Since(room.Created) < cmp.Or(r.Grace, defaultOrphanGrace)
}

// ownAlias returns the local part of the room's canonical alias when it is one a
// create of the marker's space could have given it: on the backend's server and in
// the space's namespace. Otherwise the room is not what a create leaves: the
// operator only ever gives a room an alias of its own space's namespace, and
// someone with power level 100 in a room of their own (an Owner from before levels
// were capped) may have pointed it at another tenant's alias, which claiming would
// stall. That is said in a Warning event.
func (r *Reaper) ownAlias(conn *connect.ChatConnection, backend *collabv1.ChatBackend, room *chat.ObservedRoom) (string, bool) {
	localpart, ok := aliasLocalpart(room.CanonicalAlias, conn.Server.Name)
	if !ok {
		return "", false
	}
	if !inOwnersNamespace(localpart, room.Owner) {
		r.Recorder.Eventf(backend, nil, corev1.EventTypeWarning, collabv1.ReasonOrphanIgnored, reapAction(room),
			"Left room %s alone: it carries the owner marker of %s but names %s, outside that namespace, as its alias",
			room.RoomID, room.Owner, room.CanonicalAlias)
		return "", false
	}
	return localpart, true
}

// adoptOrphan points the room's own alias at it and wakes its space, which then
// finds it by alias, with proof, instead of making it again.
func (r *Reaper) adoptOrphan(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend,
	room *chat.ObservedRoom, localpart string) error {
	if err := conn.Client.SetAlias(ctx, localpart, room.RoomID); err != nil {
		return err
	}
	metrics.OrphanRooms.WithLabelValues(backend.Name, "adopted").Inc()
	r.Recorder.Eventf(backend, nil, corev1.EventTypeNormal, collabv1.ReasonOrphanAdopted, reapAction(room),
		"Pointed alias %s at room %s, which an interrupted create left without it", room.CanonicalAlias, room.RoomID)
	r.wakeSpace(room.Owner)
	return nil
}

// removeDuplicate deletes a room that an interrupted create left behind while the
// next pass made it again, when the alias holds the operator's room for the same
// space.
func (r *Reaper) removeDuplicate(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend,
	room *chat.ObservedRoom, keeperID string) (string, error) {
	keeper, err := conn.Client.ObserveID(ctx, keeperID)
	if err != nil || chat.CheckOwner(keeper, room.Owner, backend.Status.UserID) != nil {
		r.judge(backend.Name, room.RoomID) // the alias is someone else's: not ours to settle
		return "its alias holds a room that is not its space's", nil
	}
	return r.deleteOrphan(ctx, conn, backend, room,
		fmt.Sprintf("an unused duplicate of %s (%s) that an interrupted create left behind", room.CanonicalAlias, keeperID))
}

// removeHalfMade deletes a room whose createRoom was cut off after the room was
// made but before all its state: no alias and no canonical alias, nothing anyone
// can find; the space made it again on its next pass.
func (r *Reaper) removeHalfMade(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend,
	room *chat.ObservedRoom) (string, error) {
	return r.deleteOrphan(ctx, conn, backend, room, "left half made by an interrupted create")
}

// deleteOrphan deletes a room the reaper found to be what an interrupted create
// left, described by what, unless it has history (kept and reported, whatever
// the mode), the mode does not allow deleting (reported), or the hour's
// deletions are used up (held, and judged again on a later pass).
func (r *Reaper) deleteOrphan(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend,
	room *chat.ObservedRoom, what string) (string, error) {
	why, err := r.history(ctx, conn, backend, room)
	if err != nil {
		return "", err
	}
	if why != "" {
		r.judge(backend.Name, room.RoomID)
		metrics.OrphanRooms.WithLabelValues(backend.Name, "kept").Inc()
		r.Recorder.Eventf(backend, nil, corev1.EventTypeWarning, collabv1.ReasonOrphanKept, reapAction(room),
			"Kept room %s of %s, which no space records: it looks %s, but %s; the reaper never deletes such a room, remove it by hand if it is not wanted",
			room.RoomID, ownerOf(room), what, why)
		return "kept: " + why, nil
	}
	mode, max := reaperPolicy(backend)
	if mode != collabv1.ReaperModeDelete {
		return r.reportOrphan(backend, room, "would delete it, "+what)
	}
	if !r.mayDelete(backend.Name, max, time.Now()) {
		metrics.OrphanRooms.WithLabelValues(backend.Name, "held").Inc()
		r.Recorder.Eventf(backend, nil, corev1.EventTypeWarning, collabv1.ReasonOrphanHeld, reapAction(room),
			"Left room %s, %s, for later: %d rooms were deleted in the last hour, the most spec.reaper.maxDeletionsPerHour allows",
			room.RoomID, what, max)
		return "held: the hour's deletions are used up", nil
	}
	if err := conn.Client.Delete(ctx, room.RoomID); err != nil {
		return "", err
	}
	metrics.OrphanRooms.WithLabelValues(backend.Name, "deleted").Inc()
	r.Recorder.Eventf(backend, nil, corev1.EventTypeWarning, collabv1.ReasonOrphanDeleted, reapAction(room),
		"Deleted room %s, %s; nobody but the operator was ever in it", room.RoomID, what)
	return "deleted: " + what, nil
}

// reportOrphan says in an event what the reaper would have done to a room had
// spec.reaper.mode allowed it, and reads the room no more.
func (r *Reaper) reportOrphan(backend *collabv1.ChatBackend, room *chat.ObservedRoom, would string) (string, error) {
	r.judge(backend.Name, room.RoomID)
	mode, _ := reaperPolicy(backend)
	metrics.OrphanRooms.WithLabelValues(backend.Name, "reported").Inc()
	r.Recorder.Eventf(backend, nil, corev1.EventTypeNormal, collabv1.ReasonOrphanReported, reapAction(room),
		"Room %s of %s is recorded by no space; the reaper %s, but spec.reaper.mode is %s",
		room.RoomID, ownerOf(room), would, mode)
	return "reported: " + would, nil
}

// history says why a room may hold something someone would miss, "" when it
// provably does not: anyone but the operator has a membership event in it (they
// were invited, joined, left or were banned: state keeps every user's last
// membership, and a redaction keeps the membership), or its parent space room, a
// room of the operator's, lists it as a child, which a space does only for the
// rooms it records.
func (r *Reaper) history(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend,
	room *chat.ObservedRoom) (string, error) {
	operator := backend.Status.UserID
	var people []string
	for u := range room.Members {
		if u != operator {
			people = append(people, u)
		}
	}
	if len(people) > 0 {
		slices.Sort(people)
		if len(people) > 3 {
			people = append(people[:3], fmt.Sprintf("%d more", len(people)-3))
		}
		return "people were members of it (" + strings.Join(people, ", ") + ")", nil
	}
	for _, parent := range slices.Sorted(maps.Keys(room.Parents)) {
		space, err := conn.Client.ObserveID(ctx, parent)
		if errors.Is(err, chat.ErrForbidden) {
			continue // a space room the operator is not in (any more) records nothing of its
		}
		if err != nil {
			return "", err
		}
		if space.Children[room.RoomID] && space.Creator == operator {
			return "space room " + parent + " lists it, so a space recorded it", nil
		}
	}
	return "", nil
}

// wakeSpace asks for a pass over the space an owner marker ("namespace/name")
// names, when the streams' channel is there.
func (r *Reaper) wakeSpace(owner string) {
	ns, name, ok := strings.Cut(owner, "/")
	if !ok || r.Streams == nil {
		return
	}
	obj := &collabv1.CollaborationSpace{}
	obj.Namespace, obj.Name = ns, name
	select {
	case r.Streams.Spaces <- event.GenericEvent{Object: obj}:
	default:
	}
}

// uninstalling says whether the operator may be being uninstalled, when rooms
// no space records are left as they are.
func (r *Reaper) uninstalling(ctx context.Context) bool {
	why, err := r.Uninstall.Uninstalling(ctx)
	if err != nil || why != "" {
		ctrl.LoggerFrom(ctx).Info("Leaving rooms no space records as they are: the operator may be being uninstalled", "why", why, "error", err)
		return true
	}
	return false
}
