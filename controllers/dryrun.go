package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/dryrun"
	"github.com/opencommons/collab-operator/internal/forum"
)

// PlanOptions are the operator's settings a plan must share with it to agree.
type PlanOptions struct {
	// Chat and ForumConnector connect to the backends; their clients are wrapped
	// so they only read.
	Chat           ChatConnector
	ForumConnector ForumConnector
	// Forum and MaxRemovalsPerPass as the operator runs with them
	// (--operator-namespace, --max-member-removals).
	Forum              ForumSettings
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
func PlanSpace(ctx context.Context, live client.WithWatch, desired *collabv1.CollaborationSpace, opts PlanOptions) (dryrun.Plan, error) {
	key := client.ObjectKeyFromObject(desired)
	plan := dryrun.Plan{Space: key.String()}
	rec := &dryrun.Recorder{}

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
		return plan, fmt.Errorf("cannot get CollaborationSpace %s: %w", key, err)
	case !space.DeletionTimestamp.IsZero():
		plan.Notes = append(plan.Notes, "The space is being deleted; nothing is planned")
		return plan, nil
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

	r := &CollaborationSpaceReconciler{
		Client:             dryrun.NewKubeClient(live, rec),
		Scheme:             live.Scheme(),
		Recorder:           &events.FakeRecorder{}, // drops events
		APIReader:          live,
		Chat:               dryChatConnector{opts.Chat, rec},
		Forum:              opts.Forum,
		ForumConnector:     dryForumConnector{opts.ForumConnector, rec},
		MaxRemovalsPerPass: opts.MaxRemovalsPerPass,
	}
	s := &spaceScope{space: space, before: space.DeepCopy()}
	if stop, err := r.enforcePolicy(ctx, s); stop {
		// The operator changes nothing of a space its CollaborationPolicies
		// forbid (or that it cannot judge against them), so neither does a plan.
		plan.Errors = append(plan.Errors, err.Error())
		return plan, err
	}
	_, err := runPhases(ctx, s, r.phases())
	plan.Changes = rec.Changes()
	for _, c := range space.Status.Conditions {
		if c.Status != metav1.ConditionTrue && c.Type != collabv1.DriftedCondition {
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s: %s", c.Reason, c.Message))
		}
	}
	if err != nil {
		for _, e := range flatten(err) {
			plan.Errors = append(plan.Errors, e.Error())
		}
	}
	return plan, err
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// dryChatConnector hands out chat clients that only read, and the real planner.
type dryChatConnector struct {
	real ChatConnector
	rec  *dryrun.Recorder
}

func (d dryChatConnector) Connect(ctx context.Context, backend *collabv1.ChatBackend, secret *corev1.Secret) (chat.Client, error) {
	if d.real == nil {
		return nil, errors.New("no chat connector")
	}
	c, err := d.real.Connect(ctx, backend, secret)
	if err != nil {
		return nil, err
	}
	return dryrun.NewChat(c, serverOf(backend).name, d.rec), nil
}

// Planner is the real connector's: a plan must map spaces onto rooms exactly as
// the operator does.
func (d dryChatConnector) Planner(backend *collabv1.ChatBackend) (chat.Planner, error) {
	if d.real == nil {
		return nil, errors.New("no chat connector")
	}
	return d.real.Planner(backend)
}

// dryForumConnector hands out forum clients that only read, and the real planner.
type dryForumConnector struct {
	real ForumConnector
	rec  *dryrun.Recorder
}

func (d dryForumConnector) Connect(ctx context.Context, name, url string, secret *corev1.Secret) (forum.Client, error) {
	if d.real == nil {
		return nil, errors.New("no forum connector")
	}
	c, err := d.real.Connect(ctx, name, url, secret)
	if err != nil {
		return nil, err
	}
	return dryrun.NewForum(c, name, d.rec), nil
}

// Planner is the real connector's: a plan must map spaces onto groups and
// categories exactly as the operator does. Without a connector it is nil, and
// Connect fails before anything asks it.
func (d dryForumConnector) Planner() forum.Planner {
	if d.real == nil {
		return nil
	}
	return d.real.Planner()
}

// Ping only reads.
func (d dryForumConnector) Ping(ctx context.Context, url string, hc *http.Client) error {
	if d.real == nil {
		return errors.New("no forum connector")
	}
	return d.real.Ping(ctx, url, hc)
}

// MintToken makes nothing: a plan writes nothing, not even a deployed forum's
// first API token.
func (dryForumConnector) MintToken(context.Context, forum.Login) (forum.Token, error) {
	return forum.Token{}, errors.New("a plan creates no API token: the operator creates it on its first pass over the running forum")
}
