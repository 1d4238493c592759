package spacepass

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/outcome"
	"github.com/opencommons/collab-operator/internal/spacepass/chatphase"
	"github.com/opencommons/collab-operator/internal/spacepass/forumphase"
	"github.com/opencommons/collab-operator/internal/spacepass/memberphase"
	"github.com/opencommons/collab-operator/internal/spacepass/rbacphase"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// phaseFunc is one ordered step of a reconcile pass.
type phaseFunc func(ctx context.Context, s *scope.Scope) (ctrl.Result, error)

// spacePhase is one step of a space's lifecycle and the condition it owns.
// Reconcile and the dry run run every phase's reconcile; reconcileDelete carries
// out the deletion policy through the phases that have a backend, before it
// releases the Kubernetes objects the space owns. So the list exists once, and a
// backend added to it is reconciled, planned and deleted alike.
type spacePhase struct {
	// condition is the condition the phase owns, "" when it owns none.
	condition string
	reconcile phaseFunc
	// backend is set on the phases that project the space onto a system outside
	// Kubernetes; their objects are not Kubernetes objects, so the deletion
	// reaches them through it.
	backend *spaceBackend
}

// spaceBackend is what deleting a space needs of an external system.
type spaceBackend struct {
	// name says which system, in messages: "the chat server".
	name string
	// delete carries out a deletion policy on what the space has there.
	delete func(ctx context.Context, s *scope.Scope, policy collabv1.DeletionPolicy) error
	// leftBehind names what the space has there, by id, for when the deletion
	// gives up on a system it cannot reach (ReleaseUnreachableAnnotation).
	leftBehind func(space *collabv1.CollaborationSpace) string
}

// phases are the projections of a space, in order: its Group members, Kubernetes
// RBAC, chat, forum, then the members' report, which needs the removals the chat
// and forum phases made.
func (r *Pass) phases() []spacePhase {
	members, rbac, chat, forum := r.memberPhase(), r.rbacPhase(), r.chatPhase(), r.forumPhase()
	return []spacePhase{
		{condition: collabv1.MembersReadyCondition, reconcile: members.Reconcile},
		{condition: collabv1.PermissionsReadyCondition, reconcile: rbac.Reconcile},
		{condition: collabv1.ChatReadyCondition, reconcile: chat.Reconcile,
			backend: &spaceBackend{name: "the chat server", delete: chat.Delete, leftBehind: chatphase.LeftBehind}},
		{condition: collabv1.ForumReadyCondition, reconcile: forum.Reconcile,
			backend: &spaceBackend{name: "the forum", delete: forum.Delete, leftBehind: forumphase.LeftBehind}},
		{condition: collabv1.MembersReadyCondition, reconcile: members.Report},
	}
}

func (r *Pass) memberPhase() *memberphase.Phase {
	return &memberphase.Phase{Kit: r.kit(), Directories: r.Directories, MaxRemovalsPerPass: r.MaxRemovalsPerPass}
}

func (r *Pass) rbacPhase() *rbacphase.Phase { return &rbacphase.Phase{Kit: r.kit()} }

func (r *Pass) chatPhase() *chatphase.Phase {
	return &chatphase.Phase{Kit: r.kit(), Connector: r.Chat, Streams: r.Streams, Checkpoints: &r.checkpoints}
}

func (r *Pass) forumPhase() *forumphase.Phase {
	return &forumphase.Phase{Kit: r.kit(), Settings: r.Forum}
}

// runPhases runs every phase even when an earlier one failed, so one broken backend
// does not hide another's state, and merges their results: a lost write race is a
// quiet retry, every other failure is classified into s.errs, and the pass is
// terminal only when all of them are (passOutcome).
func runPhases(ctx context.Context, s *scope.Scope, phases []spacePhase) (ctrl.Result, error) {
	var result ctrl.Result
	for _, phase := range phases {
		res, err := phase.reconcile(ctx, s)
		result = outcome.Soonest(result, res)
		switch {
		case err == nil:
		case apierrors.IsConflict(err):
			result = outcome.Soonest(result, ctrl.Result{RequeueAfter: outcome.ConflictRetryDelay})
		default:
			s.Errs = append(s.Errs, outcome.Classify("", collabv1.ReasonFailed, err))
		}
	}
	wait, err := outcome.Merge(s.Errs)
	if err != nil {
		return ctrl.Result{}, err
	}
	return outcome.Soonest(result, ctrl.Result{RequeueAfter: wait}), nil
}

// kit is built once from the Pass's settings, which do not change once it runs.
func (r *Pass) kit() *scope.Kit {
	r.kitOnce.Do(func() {
		reader := r.APIReader
		if reader == nil {
			reader = r.Client
		}
		// --credentials-namespace defaults to --operator-namespace; dry runs
		// and tests set only the latter.
		credentials := r.CredentialsNamespace
		if credentials == "" {
			credentials = r.Forum.OperatorNamespace
		}
		r.k = &scope.Kit{Client: r.Client, Scheme: r.Scheme, APIReader: reader, Recorder: r.Recorder,
			Changes: &r.changes, CredentialsNamespace: credentials, OperatorNamespace: r.Forum.OperatorNamespace}
		r.k.Forums = r.Forums
	})
	return r.k
}
