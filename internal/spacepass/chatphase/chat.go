package chatphase

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/outcome"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// sharedSpaceRetry is a safety net only: a space whose rooms are shared with a
// department that has no chat space yet is woken as soon as that space gets one
// (spaceindex.SharedWith, controllers/space).
const sharedSpaceRetry = 10 * time.Minute

// +kubebuilder:rbac:groups=collab.opencommons.io,resources=chatbackends,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// wantsChat reports whether the space declares rooms.
func wantsChat(space *collabv1.CollaborationSpace) bool {
	return space.Spec.Chat != nil && len(space.Spec.Chat.Rooms) > 0 && space.Spec.Chat.BackendRef != nil
}

// chatPass is one pass over a space's chat: the connection and what it found.
type chatPass struct {
	*connect.ChatConnection
	s        *scope.Scope
	operator string
	// drifted names the fields put back in rooms that were already right once.
	drifted []string
	// aliasMoved describes aliases that point away from the rooms in status:
	// reported, never followed.
	aliasMoved []string
	// sharingMoved: the space room's links change because another space's
	// sharing did, which its next converge must not report as drift.
	sharingMoved bool
	// resume holds the rooms a cut-off pass already found or converged, and
	// records this pass's; nil when the stream of changes cannot vouch for them.
	resume *checkpoint
}

// Reconcile makes the department's space and rooms match the spec, in as few
// requests as the chat server allows: one read per room, and writes only for what
// differs. It owns ChatReady and Drifted.
func (r *Phase) Reconcile(ctx context.Context, s *scope.Scope) (ctrl.Result, error) {
	space := s.Space
	if !wantsChat(space) {
		if err := r.retireAllRooms(ctx, s); err != nil {
			return ctrl.Result{}, s.Fail(collabv1.ChatReadyCondition, collabv1.ReasonChatFailed, err)
		}
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ChatReadyCondition)
		return ctrl.Result{}, nil
	}
	conn, err := connect.ToChat(ctx, r.Client, r.Credentials(), r.Connector, space.Spec.Chat.BackendRef.Name)
	if err != nil {
		return ctrl.Result{}, s.Fail(collabv1.ChatReadyCondition, collabv1.ReasonChatFailed, err)
	}
	p := &chatPass{ChatConnection: conn, s: s, resume: r.resumeChat(s, conn)}
	if p.operator, err = conn.OperatorID(ctx); err != nil {
		return ctrl.Result{}, s.Fail(collabv1.ChatReadyCondition, collabv1.ReasonChatFailed, err)
	}
	pending, err := r.applyChat(ctx, p)
	r.leaveCheckpoint(p, err)
	if err != nil {
		return ctrl.Result{}, s.Fail(collabv1.ChatReadyCondition, collabv1.ReasonChatFailed, err)
	}
	r.reportDrift(p)
	if len(pending) > 0 {
		scope.SetCondition(space, collabv1.ChatReadyCondition, metav1.ConditionFalse, collabv1.ReasonSharedSpacePending,
			fmt.Sprintf("Rooms are shared with %s, which has no chat space yet; create it or fix sharedWith",
				strings.Join(pending, ", ")))
		return ctrl.Result{RequeueAfter: sharedSpaceRetry}, nil
	}
	scope.SetCondition(space, collabv1.ChatReadyCondition, metav1.ConditionTrue, collabv1.ReasonRoomsReady,
		fmt.Sprintf("%s in space %s on ChatBackend %s", scope.Counted(len(space.Status.Chat.Rooms), "room"),
			space.Status.Chat.SpaceID, conn.Backend.Name))
	return ctrl.Result{RequeueAfter: r.chatPoll(conn)}, nil
}

// applyChat brings the space room, then each room, then the space's list of children
// in line, archives rooms no longer declared, and records the ids in status. It
// returns the sharedWith spaces it could not resolve yet.
func (r *Phase) applyChat(ctx context.Context, p *chatPass) ([]string, error) {
	space := p.s.Space
	input, pending := r.desiredInput(ctx, p)
	layout, err := p.Planner.Layout(space, input)
	if err != nil {
		return nil, reconcile.TerminalError(err)
	}
	// The space room is converged last, once it can list its rooms, so it is
	// read once and written at most once.
	spaceSpec := layout.SpaceRoom
	spaceRoom, err := p.resumeOr(spaceSpec, func() (*chat.ObservedRoom, error) {
		return r.findOrCreateRoom(ctx, p, spaceSpec, priorSpaceID(space), p.Planner.LegacySpaceAlias(space.Name))
	})
	if err != nil {
		return nil, err
	}
	roomSpecs, err := layout.Rooms(spaceRoom.RoomID)
	if err != nil {
		return nil, reconcile.TerminalError(err)
	}
	status := &collabv1.ChatStatus{SpaceID: spaceRoom.RoomID}
	children := make([]string, 0, len(roomSpecs))
	sharedSpaces := map[string][]string{} // members of the sharing spaces, read once a pass
	for i, spec := range roomSpecs {
		name := space.Spec.Chat.Rooms[i].Name
		if space.Spec.MemberPolicy == collabv1.MemberPolicyAuthoritative {
			if spec.SharedMembers, err = p.sharedMembers(ctx, spec, spaceRoom.RoomID, sharedSpaces); err != nil {
				return nil, err
			}
		}
		room, err := p.resumeOr(spec, func() (*chat.ObservedRoom, error) {
			return r.ensureRoom(ctx, p, spec, priorRoomID(space, name), p.Planner.LegacyRoomAlias(space.Name, name))
		})
		if err != nil {
			return nil, err
		}
		children = append(children, room.RoomID)
		status.Rooms = append(status.Rooms, collabv1.RoomStatus{Name: name, RoomID: room.RoomID, Alias: room.Alias})
	}
	// Rooms other departments share with this one show under its space too.
	link, unlink, err := r.sharedInto(ctx, space)
	if err != nil {
		return nil, err
	}
	spaceSpec = layout.Listing(children, link, unlink)
	// Links that follow another space's sharing are asked for, not drift.
	p.sharingMoved = sharingMoved(spaceRoom, link, unlink)
	if err := r.convergeRoom(ctx, p, spaceSpec, spaceRoom); err != nil {
		return nil, err
	}
	p.resume.drop(spaceSpec) // what was read of it is now out of date
	if err := r.retireRemovedRooms(ctx, p, status); err != nil {
		return nil, err
	}
	space.Status.Chat = status
	metrics.ManagedRooms.WithLabelValues(space.Namespace, space.Name).Set(float64(len(status.Rooms) + 1))
	return pending, nil
}

// desiredInput gathers what the planner needs besides the space: the operator's
// account, the space rooms of the departments rooms are shared with and the
// people of its Group members.
func (r *Phase) desiredInput(ctx context.Context, p *chatPass) (chat.DesiredInput, []string) {
	in := chat.DesiredInput{
		OperatorUserID: p.operator,
		SharedSpaceIDs: map[string]string{},
	}
	var pending []string
	for _, room := range p.s.Space.Spec.Chat.Rooms {
		for _, ref := range room.SharedWith {
			key := ref.Namespace + "/" + ref.Name
			if _, done := in.SharedSpaceIDs[key]; done {
				continue
			}
			other := &collabv1.CollaborationSpace{}
			err := r.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, other)
			if err != nil || other.Status.Chat == nil || other.Status.Chat.SpaceID == "" {
				pending = append(pending, key)
				continue
			}
			in.SharedSpaceIDs[key] = other.Status.Chat.SpaceID
		}
	}
	in.People = p.s.ChatPeople(p.Planner) // Group members, through the directory (package memberphase)
	return in, pending
}

// findOrCreateRoom finds a room by the id in status, its alias or, for rooms an
// earlier version made, its legacy alias, and proves it is the operator's for this
// space; or creates it with all its state at once. Create adopts a room that a
// pass which crashed before writing status made, with the same proof. A room
// that holds the alias but is not provably this space's stalls the space: the
// operator never adopts what it cannot prove it made.
func (r *Phase) findOrCreateRoom(ctx context.Context, p *chatPass, spec chat.RoomSpec,
	knownID string, legacyAliases ...string) (*chat.ObservedRoom, error) {
	lookup := chat.Lookup{KnownID: knownID, LegacyAliases: legacyAliases, Operator: p.operator}
	room, loc, err := chat.Locate(ctx, p.Client, spec, lookup)
	if err != nil {
		return nil, fmt.Errorf("cannot find room %s: %w", spec.CanonicalAlias, outcome.TerminalIfConflict(err))
	}
	r.reportLocation(p, spec, knownID, room, loc)
	if room != nil {
		return room, nil
	}
	created, err := p.Client.Create(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("cannot create room %s: %w", spec.CanonicalAlias, outcome.TerminalIfConflict(err))
	}
	r.RecordChange(p.s.Space, collabv1.ReasonRoomCreated, "Create", "Created room %s (%s)", created.Alias, created.RoomID)
	return created, nil
}

// reportLocation tells the user what finding a room revealed: a room in status the
// operator lost, a room moved to its current alias, an alias pointing elsewhere.
func (r *Phase) reportLocation(p *chatPass, spec chat.RoomSpec, knownID string,
	room *chat.ObservedRoom, loc chat.Location) {
	space := p.s.Space
	if loc.Lost {
		r.RecordWarning(space, collabv1.ReasonRoomLost, "Update", "Room %s recorded in status can no longer be read by the operator; "+
			"looking for %s by its alias", knownID, spec.CanonicalAlias)
	}
	if loc.Realiased && room != nil {
		r.RecordChange(space, collabv1.ReasonRoomAliased, "Update", "Pointed alias %s at room %s", spec.CanonicalAlias, room.RoomID)
	}
	if loc.AliasElsewhere != "" {
		p.aliasMoved = append(p.aliasMoved, fmt.Sprintf("%s points to room %s, not to %s", spec.CanonicalAlias,
			loc.AliasElsewhere, knownID))
	}
}

// convergeRoom changes what differs between a room as observed and its spec. A room
// created from the same spec in this pass plans nothing.
func (r *Phase) convergeRoom(ctx context.Context, p *chatPass, spec chat.RoomSpec, observed *chat.ObservedRoom) error {
	actions, report := p.Planner.Plan(spec, *observed, p.planOptions())
	ctrl.LoggerFrom(ctx).V(1).Info("Planned room", "alias", observed.Alias, "actions", len(actions),
		"drift", report.Drift, "notes", report.Notes)
	if len(actions) == 0 {
		return nil
	}
	if err := p.Client.Update(ctx, observed.RoomID, actions); err != nil {
		return fmt.Errorf("cannot update room %s: %w", spec.AliasLocalpart, err)
	}
	r.RecordChange(p.s.Space, collabv1.ReasonRoomUpdated, "Update", "Updated %s of room %s", strings.Join(report.Drift, ", "), observed.Alias)
	if len(report.Notes) > 0 { // said when something changed, not on every poll
		r.RecordWarning(p.s.Space, collabv1.ReasonCannotApply, "Update", "Room %s: %s", observed.Alias, strings.Join(report.Notes, "; "))
	}
	if p.s.UnchangedSpec() {
		drift := report.Drift
		if spec.Space && p.sharingMoved {
			drift = slices.DeleteFunc(slices.Clone(drift), func(f string) bool { return f == "children" })
		}
		p.noteDrift(drift, observed.Alias)
	}
	return nil
}

// ensureRoom finds or creates a room, then converges it.
func (r *Phase) ensureRoom(ctx context.Context, p *chatPass, spec chat.RoomSpec,
	knownID string, legacyAliases ...string) (*chat.ObservedRoom, error) {
	room, err := r.findOrCreateRoom(ctx, p, spec, knownID, legacyAliases...)
	if err != nil {
		return nil, err
	}
	return room, r.convergeRoom(ctx, p, spec, room)
}

// priorSpaceID is the space room's id from status, authoritative once recorded.
func priorSpaceID(space *collabv1.CollaborationSpace) string {
	if space.Status.Chat == nil {
		return ""
	}
	return space.Status.Chat.SpaceID
}

// priorRoomID is a room's id from status, authoritative once recorded.
func priorRoomID(space *collabv1.CollaborationSpace, name string) string {
	if space.Status.Chat == nil {
		return ""
	}
	for _, room := range space.Status.Chat.Rooms {
		if room.Name == name {
			return room.RoomID
		}
	}
	return ""
}

// planOptions asks the space's removal budget (scope.RemovalBudget) before each kick.
func (p *chatPass) planOptions() chat.PlanOptions {
	return chat.PlanOptions{
		Authoritative:  p.s.Space.Spec.MemberPolicy == collabv1.MemberPolicyAuthoritative,
		OperatorUserID: p.operator,
		MayRemove:      p.s.MayRemoveChat(p.Planner),
		LastOwnerGuard: true,
	}
}

func (p *chatPass) noteDrift(fields []string, alias string) {
	for _, f := range fields {
		metrics.DriftCorrections.WithLabelValues(p.Backend.Name, "room", f).Inc()
		p.drifted = append(p.drifted, alias+" "+f)
	}
}

// reportDrift tells the user, with a Warning event, what was changed by hand and
// put back, and which aliases point away from the space's rooms, which the
// operator reports but does not follow: the ids in status are authoritative.
// summarize turns both into the Drifted condition.
func (r *Phase) reportDrift(p *chatPass) {
	s := p.s
	if len(p.drifted) > 0 {
		r.RecordWarning(s.Space, collabv1.ReasonDriftCorrected, "Update", "Put back changes made by hand: %s", strings.Join(p.drifted, "; "))
		s.Drift = append(s.Drift, p.drifted...)
	}
	if len(p.aliasMoved) > 0 {
		if c := meta.FindStatusCondition(s.Before.Status.Conditions, collabv1.DriftedCondition); c == nil || c.Reason != "AliasMoved" {
			r.RecordWarning(s.Space, collabv1.ReasonAliasMoved, "Update", "Aliases moved by hand, rooms kept by the ids in status: %s",
				strings.Join(p.aliasMoved, "; "))
		}
		s.AliasMoved = append(s.AliasMoved, p.aliasMoved...)
	}
}

// resumeOr returns the room the checkpoint holds for spec, or else finds (and
// converges) it with read and records it for a pass that may resume this one.
func (p *chatPass) resumeOr(spec chat.RoomSpec, read func() (*chat.ObservedRoom, error)) (*chat.ObservedRoom, error) {
	if room := p.resume.room(spec); room != nil {
		return room, nil
	}
	room, err := read()
	if err != nil {
		return nil, err
	}
	// The server answered: a fault later in this pass is a passing one.
	p.s.Heard(collabv1.ChatReadyCondition)
	p.resume.record(spec, room, p.s.Now)
	return room, nil
}

// chatPoll is when a space is next compared with its chat server in full: the
// backend's safety-net interval while its stream of changes runs, else every
// fallbackPollInterval (or the safety net, when shorter).
func (r *Phase) chatPoll(conn *connect.ChatConnection) time.Duration {
	interval := conn.PollInterval()
	if r.Streams != nil {
		if healthy, _ := r.Streams.Status(conn.Backend.Name); healthy {
			return interval
		}
	}
	return min(interval, chat.FallbackPollInterval)
}

// ChangeFeed is what a pass reads of the backends' streams of changes
// (controllers/chatbackend/stream): whether a backend's stream runs, its epoch,
// and whether a room may have changed unseen since an epoch.
type ChangeFeed interface {
	Status(backend string) (healthy bool, lastErr string)
	Epoch(backend string) (uint64, bool)
	ChangedSince(backend string, epoch uint64, room string) bool
}

// chatPhase keeps the space's chat space and rooms.
type Phase struct {
	*scope.Kit
	Connector   chat.Connector
	Streams     ChangeFeed
	Checkpoints *Checkpoints
}
