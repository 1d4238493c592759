package spacepass

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/dryrun"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/spacepass/forumphase"
	"github.com/opencommons/collab-operator/internal/spacepass/rbacphase"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// PlanOptions are the operator's settings a plan must share with it to agree.
type PlanOptions struct {
	// Chat and Forums connect to the backends; their clients are wrapped so
	// they only read.
	Chat   chat.Connector
	Forums forum.Engines
	// Forum and MaxRemovalsPerPass as the operator runs with them
	// (--operator-namespace, --max-member-removals).
	Forum              forumphase.Settings
	MaxRemovalsPerPass int
}

// PlanSpace returns what the operator would do if desired were applied: it runs one
// pass of the reconciler's phases over desired, with clients that read the live
// cluster and backends and record every write instead of making it. The planning
// is the reconciler's own code, so plan and apply cannot disagree about it.
//
// When the space exists, the pass starts from its live metadata and status (which
// hold the ids of its rooms and categories) with desired's spec; otherwise from
// desired as a new object. A space being deleted is not planned.
//
// What a phase could not see (a backend unreachable, credentials the plan may not
// read) is in the plan's Unknown and the rest of the plan stands; the error is
// set only when the plan could not be made (the cluster could not be read, a
// CollaborationPolicy forbids the space, the operator would stall on it), as are
// the plan's Errors.
func PlanSpace(ctx context.Context, live client.WithWatch, desired *collabv1.CollaborationSpace, opts PlanOptions) (dryrun.Plan, error) {
	key := client.ObjectKeyFromObject(desired)
	plan := dryrun.Plan{Space: key.String()}
	if opts.Chat == nil || len(opts.Forums) == 0 {
		return plan, errors.New("a plan needs the engines' connectors: PlanOptions.Chat and Forums")
	}
	rec := &dryrun.Recorder{}
	space, err := startingSpace(ctx, live, desired, &plan, rec)
	if err != nil || space == nil {
		return plan, err
	}

	before := space.DeepCopy()
	r := &Pass{
		Client:             cacheLike(dryrun.NewKubeClient(live, rec)),
		Scheme:             live.Scheme(),
		Recorder:           &events.FakeRecorder{}, // drops events
		APIReader:          credentialsReader{live},
		Chat:               dryChatConnector{real: opts.Chat, rec: rec, space: before},
		Forum:              opts.Forum,
		Forums:             dryForums(opts.Forums, rec, before),
		MaxRemovalsPerPass: opts.MaxRemovalsPerPass,
	}
	s := &scope.Scope{Space: space, Before: before}
	if stop, err := r.enforcePolicy(ctx, s); stop {
		// The operator changes nothing of a space its CollaborationPolicies
		// forbid (or that it cannot judge against them), so neither does a plan.
		plan.Errors = append(plan.Errors, err.Error())
		return plan, err
	}
	_, _ = runPhases(ctx, s, r.phases()) // its errors are s.errs, read below
	r.planForumToCome(ctx, s, rec)
	plan.Changes = rec.Changes()
	plan.Notes = rec.Notes()
	plan.Unknown = rec.Unknowns()
	failed := sortPhaseErrors(&plan, s)
	sortConditions(&plan, space, failed)
	if len(plan.Errors) > 0 {
		return plan, errors.New(strings.Join(plan.Errors, "; "))
	}
	return plan, nil
}

// startingSpace is the space a plan's pass starts from: the live one with
// desired's spec, or desired as a new object (recorded as a creation). It is nil
// when nothing is planned: the space is being deleted.
func startingSpace(ctx context.Context, live client.Client, desired *collabv1.CollaborationSpace,
	plan *dryrun.Plan, rec *dryrun.Recorder) (*collabv1.CollaborationSpace, error) {
	key := client.ObjectKeyFromObject(desired)
	space := &collabv1.CollaborationSpace{}
	switch err := live.Get(ctx, key, space); {
	case apierrors.IsNotFound(err):
		space = desired.DeepCopy()
		space.Generation = 1
		space.Status = collabv1.CollaborationSpaceStatus{}
		plan.New = true
		rec.Add(dryrun.Change{Backend: dryrun.BackendKubernetes, Verb: "create",
			Target: dryrun.Target("CollaborationSpace", key), Detail: "from the file"})
	case err != nil:
		return nil, fmt.Errorf("cannot get CollaborationSpace %s: %w", key, err)
	case !space.DeletionTimestamp.IsZero():
		plan.Notes = append(plan.Notes, "The space is being deleted; nothing is planned")
		return nil, nil
	default:
		if !equality.Semantic.DeepEqual(space.Spec, desired.Spec) {
			// A new generation: what differs is asked for, not drift.
			space.Generation++
		}
		space.Spec = *desired.Spec.DeepCopy()
	}
	if space.Status.Chat != nil {
		for _, room := range space.Status.Chat.Rooms {
			rec.Name(room.RoomID, room.Alias)
		}
	}
	return space, nil
}

// sortPhaseErrors files the pass's errors: a phase that failed leaves its part
// of the plan unknown, and the rest of the plan stands; one that the operator
// would stall on (a name held by someone else) is an error of the plan, as of
// the space. It returns the conditions of the phases that failed.
func sortPhaseErrors(plan *dryrun.Plan, s *scope.Scope) map[string]bool {
	failed := map[string]bool{}
	for _, e := range s.Errs {
		failed[e.Condition] = true
		msg := e.Error()
		if !e.Terminal && !strings.HasPrefix(msg, "cannot tell") {
			msg = "cannot tell what changes on " + phaseSubject(s.Space, e.Condition) + ": " + msg
		}
		switch {
		case e.Terminal:
			plan.Errors = append(plan.Errors, msg)
		case !slices.Contains(plan.Unknown, msg):
			plan.Unknown = append(plan.Unknown, msg)
		}
	}
	return failed
}

// sortConditions files the phase conditions that are not True and no error
// explained: as unknowns or as notes.
func sortConditions(plan *dryrun.Plan, space *collabv1.CollaborationSpace, failed map[string]bool) {
	for _, c := range space.Status.Conditions {
		if c.Status == metav1.ConditionTrue || c.Type == collabv1.DriftedCondition || failed[c.Type] {
			continue
		}
		line := fmt.Sprintf("%s: %s", c.Reason, c.Message)
		switch {
		case c.Type == collabv1.ForumReadyCondition && forumToComeReasons[c.Reason] && slices.Contains(plan.Notes, forumToComeNote):
			// planned on an empty forum instead
		case unknownReasons[c.Reason]:
			plan.Unknown = append(plan.Unknown, line)
		default:
			plan.Notes = append(plan.Notes, line)
		}
	}
}

// phaseSubject names what the phase owning condition writes to, for a plan's
// "cannot tell" lines.
func phaseSubject(space *collabv1.CollaborationSpace, condition string) string {
	switch condition {
	case collabv1.ChatReadyCondition:
		if c := space.Spec.Chat; c != nil && c.BackendRef != nil {
			return "ChatBackend " + c.BackendRef.Name
		}
		return "the chat server"
	case collabv1.ForumReadyCondition:
		if f := space.Spec.Forum; f != nil && f.BackendRef != nil {
			return "ForumBackend " + f.BackendRef.Name
		}
		return deployedForumName(space)
	case collabv1.PermissionsReadyCondition:
		return "the space's Roles and RoleBindings"
	case collabv1.MembersReadyCondition:
		return "the space's members"
	}
	return "the space"
}

// unknownReasons are the conditions' reasons that say the plan could not see a
// backend the space already has content on.
var unknownReasons = map[string]bool{
	collabv1.ReasonForumAPIUnreachable: true, collabv1.ReasonForumStarting: true, collabv1.ReasonForumLoginFailed: true, collabv1.ReasonForumTokenFailed: true,
	collabv1.ReasonChatFailed: true, collabv1.ReasonForumBackendUnavailable: true, collabv1.ReasonForumFailed: true, collabv1.ReasonWorkloadsProgressing: true,
}

// forumToComeReasons say a deployed forum is not running yet; when the plan
// has planned its content on an empty forum instead, they are not repeated.
var forumToComeReasons = map[string]bool{
	collabv1.ReasonWorkloadsProgressing: true, collabv1.ReasonForumAPIUnreachable: true, collabv1.ReasonForumStarting: true, collabv1.ReasonForumTokenFailed: true,
}

// forumToComeNote says the forum's content was planned on an empty forum.
const forumToComeNote = "The forum is not running yet: once it is, the operator creates its groups and categories as planned here"

// planForumToCome plans the content of a deployed forum the operator has not set
// up yet (no group or category in status) whose API the pass could not use: the
// forum is being deployed, or runs where the plan cannot reach it. Once it runs,
// the operator creates every group and category, so the plan shows that, on an
// empty forum, rather than "no changes". A forum with content recorded that does
// not answer is something the plan cannot tell (unknownReasons).
func (r *Pass) planForumToCome(ctx context.Context, s *scope.Scope, rec *dryrun.Recorder) {
	space := s.Space
	if space.Spec.Forum == nil || space.Spec.Forum.Deploy == nil {
		return
	}
	c := meta.FindStatusCondition(space.Status.Conditions, collabv1.ForumReadyCondition)
	if c == nil || c.Status == metav1.ConditionTrue || !forumToComeReasons[c.Reason] {
		return
	}
	if st := s.Before.Status.Forum; st != nil && (len(st.Groups) > 0 || len(st.Categories) > 0) {
		return
	}
	self := forum.Self{UID: 1, Username: "admin", Admin: true} // the account the forum's setup makes
	if engine, err := r.Forums.ForDeploy(space); err != nil || engine.Planner() == nil {
		return
	}
	rec.Note(forumToComeNote)
	empty := dryrun.NewForum(dryrun.EmptyForum{Self: self}, deployedForumName(space), rec)
	if err := r.forumPhase().ApplyContentTo(ctx, s, empty); err != nil {
		rec.Unknown("the forum's content: " + err.Error())
	}
}

// deployedForumName names a deployed forum in a plan by its space.
func deployedForumName(space *collabv1.CollaborationSpace) string {
	return "forum " + space.Namespace + "/" + space.Name
}

// credentialsReader reads backends' credentials for a plan. A Secret that is not
// there or that the plan may not read reads as a stand-in (dryrun.Unreadable):
// the dry connectors then plan a space that has nothing on the backend yet as
// new there, and say what they cannot tell about the others.
type credentialsReader struct{ client.Reader }

func (c credentialsReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := c.Reader.Get(ctx, key, obj, opts...)
	secret, isSecret := obj.(*corev1.Secret)
	if !isSecret || (!apierrors.IsNotFound(err) && !apierrors.IsForbidden(err)) {
		return err
	}
	why := "it is not there"
	if apierrors.IsForbidden(err) {
		why = "the plan's role may not read Secrets"
	}
	*secret = corev1.Secret{}
	secret.Namespace, secret.Name = key.Namespace, key.Name
	secret.Annotations = map[string]string{dryrun.UnreadableAnnotation: why}
	return nil
}

// dryChatConnector hands out chat clients that only read, and the real planner.
type dryChatConnector struct {
	real chat.Connector
	rec  *dryrun.Recorder
	// space is the space planned, as the cluster holds it (its status says
	// what it has on the chat server).
	space *collabv1.CollaborationSpace
}

// Connect connects to the backend, or, when the plan cannot, stands in an empty
// server: for a backend that only the files name (the operator has made nothing
// on it), and for a space with no rooms yet whose backend's credentials the plan
// may not read (said as unknown: whether the rooms' aliases are free is not
// checked). A space with rooms on a backend the plan cannot read is not planned
// there.
func (d dryChatConnector) Connect(ctx context.Context, backend *collabv1.ChatBackend, secret *corev1.Secret) (chat.Client, error) {
	server := d.real.Server(backend).Name
	empty := dryrun.EmptyChat{Self: d.real.Operator(backend, secret)}
	if dryrun.FromFiles(backend) {
		d.rec.Note(fmt.Sprintf("ChatBackend %s is not in the cluster yet: its rooms are planned as on an empty server, "+
			"the operator's account shown as %s", backend.Name, empty.Self))
		return dryrun.NewChat(empty, server, d.rec), nil
	}
	if why, unreadable := dryrun.Unreadable(secret); unreadable {
		if d.space.Status.Chat != nil && d.space.Status.Chat.SpaceID != "" {
			return nil, fmt.Errorf("cannot tell what changes on ChatBackend %s: its credentials Secret %s/%s cannot be read (%s)",
				backend.Name, secret.Namespace, secret.Name, why)
		}
		d.rec.Unknown(fmt.Sprintf("ChatBackend %s: its credentials Secret %s/%s cannot be read (%s), so the rooms are "+
			"planned as new without checking that their aliases are free", backend.Name, secret.Namespace, secret.Name, why))
		return dryrun.NewChat(empty, server, d.rec), nil
	}
	c, err := d.real.Connect(ctx, backend, secret)
	if err != nil {
		return nil, err
	}
	return dryrun.NewChat(c, server, d.rec), nil
}

// Planner is the real connector's: a plan must map spaces onto rooms exactly as
// the operator does.
func (d dryChatConnector) Planner(backend *collabv1.ChatBackend) (chat.Planner, error) {
	return d.real.Planner(backend)
}

// dryForums wraps every forum engine's connector so it only reads.
func dryForums(real forum.Engines, rec *dryrun.Recorder, space *collabv1.CollaborationSpace) forum.Engines {
	dry := make(forum.Engines, len(real))
	for i, c := range real {
		dry[i] = dryForumConnector{real: c, rec: rec, space: space}
	}
	return dry
}

// dryForumConnector hands out forum clients that only read, and the real planner.
type dryForumConnector struct {
	real forum.Connector
	rec  *dryrun.Recorder
	// space is the space planned, as the cluster holds it.
	space *collabv1.CollaborationSpace
}

// Connect connects to the forum, named in the plan by what users know it as: a
// deployed forum by its space, a ForumBackend by its name (name is its admin
// Secret's key, or "ForumBackend/<name>"). As for chat, a ForumBackend whose
// credentials the plan may not read is an empty forum for a space with nothing
// on it yet, and unknown for the others.
func (d dryForumConnector) Connect(ctx context.Context, name, url string, secret *corev1.Secret) (forum.Client, error) {
	display := deployedForumName(d.space)
	if backend, ok := strings.CutPrefix(name, "ForumBackend/"); ok {
		display = "ForumBackend " + backend
	}
	if why, unreadable := dryrun.Unreadable(secret); unreadable {
		if st := d.space.Status.Forum; st != nil && (len(st.Groups) > 0 || len(st.Categories) > 0) {
			return nil, fmt.Errorf("cannot tell what changes on %s: its credentials Secret %s/%s cannot be read (%s)",
				display, secret.Namespace, secret.Name, why)
		}
		d.rec.Unknown(fmt.Sprintf("%s: its credentials Secret %s/%s cannot be read (%s), so the groups and categories "+
			"are planned as new without checking the forum", display, secret.Namespace, secret.Name, why))
		return dryrun.NewForum(dryrun.EmptyForum{Self: forum.Self{UID: 1, Username: "admin", Admin: true}}, display, d.rec), nil
	}
	c, err := d.real.Connect(ctx, name, url, secret)
	if err != nil {
		return nil, err
	}
	return dryrun.NewForum(c, display, d.rec), nil
}

// Planner is the real connector's: a plan must map spaces onto groups and
// categories exactly as the operator does. Without a connector it is nil, and
// Connect fails before anything asks it.
func (d dryForumConnector) Planner() forum.Planner {
	return d.real.Planner()
}

// Ping only reads.
func (d dryForumConnector) Ping(ctx context.Context, url string, hc *http.Client) error {
	return d.real.Ping(ctx, url, hc)
}

// MintToken makes nothing: a plan writes nothing, not even a deployed forum's
// first API token.
func (dryForumConnector) MintToken(context.Context, forum.Login) (forum.Token, error) {
	return forum.Token{}, errors.New("a plan creates no API token: the operator creates it on its first pass over the running forum")
}

// cacheLike reads objects as the manager's cache holds them (TrimForCache), so
// a plan compares what a pass compares: Roles and RoleBindings by the fingerprint the
// cache computes from their content, never by a value found on the server.
func cacheLike(c client.WithWatch) client.WithWatch {
	return interceptor.NewClient(c, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			_, err := rbacphase.TrimForCache(obj)
			return err
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if err := c.List(ctx, list, opts...); err != nil {
				return err
			}
			return meta.EachListItem(list, func(o runtime.Object) error { _, err := rbacphase.TrimForCache(o); return err })
		},
	})
}

// Serves, Server and Operator read the engine section as the real connector
// does (PlanSpace refuses to plan without one).
func (d dryChatConnector) Serves(b *collabv1.ChatBackend) bool {
	return d.real.Serves(b)
}

func (d dryChatConnector) Server(b *collabv1.ChatBackend) chat.Server {
	return d.real.Server(b)
}

func (d dryChatConnector) Operator(b *collabv1.ChatBackend, s *corev1.Secret) string {
	return d.real.Operator(b, s)
}

// Serves implements forum.Connector.
func (d dryForumConnector) Serves(b *collabv1.ForumBackend) bool { return d.real.Serves(b) }

// Deploys implements forum.Connector.
func (d dryForumConnector) Deploys(e collabv1.ForumEngine) bool { return d.real.Deploys(e) }

// Site reads the engine section as the real connector does.
func (d dryForumConnector) Site(b *collabv1.ForumBackend) forum.Site { return d.real.Site(b) }

// Deployer builds the workloads as the real connector does.
func (d dryForumConnector) Deployer() forum.Deployer { return d.real.Deployer() }
