// Package spacepass is one pass over a CollaborationSpace: the phases in order
// (Pass.phases: members, RBAC, chat, forum, the members' report, each a package
// of its own over package scope), each failure classified, the status summary
// written once (patchStatus), the space's CollaborationPolicies enforced before
// anything changes, and the deletion that carries out a deletionPolicy through
// the same phases. The space controller (controllers/space) runs a Pass per
// reconcile; the dry run (PlanSpace, collabctl plan) runs the same phases
// against clients that only read.
package spacepass

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/directory"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/outcome"
	"github.com/opencommons/collab-operator/internal/spacepass/chatphase"
	"github.com/opencommons/collab-operator/internal/spacepass/forumphase"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// SpaceFinalizer holds a CollaborationSpace until its deletionPolicy has been carried
// out on every backend.
const SpaceFinalizer = "collab.opencommons.io/finalizer"

// Pass turns a CollaborationSpace into permission bindings,
// chat rooms and a forum, and keeps them true.
type Pass struct {
	client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
	// APIReader reads Secrets without caching them; the Client when nil.
	APIReader client.Reader
	// CredentialsNamespace is the one namespace backends' credentials Secrets are read
	// from; Forum.OperatorNamespace when empty.
	CredentialsNamespace string
	// Chat connects to the chat server a space's rooms live on.
	Chat chat.Connector
	// Forum says how deployed forums are reached.
	Forum forumphase.Settings
	// Forums are the forum engines (internal/engines.Forum): a ForumBackend is
	// reached through the engine of its section, a deployed forum through the
	// engine spec.forum.deploy.engine names.
	Forums forum.Engines
	// MaxRemovalsPerPass caps the people removed from one room in one pass under
	// memberPolicy Authoritative; 0 means no cap.
	MaxRemovalsPerPass int
	// Directories holds what each PeopleDirectory last resolved; Group members
	// have no chat or forum projection when nil.
	Directories *directory.Registry
	// Streams tells which backends stream their changes and which rooms may
	// have changed unseen (the ChatBackend controller's /sync streams); spaces
	// are polled often when nil.
	Streams chatphase.ChangeFeed
	// TransientGrace is how long a converged space keeps Ready=True while a
	// server's passing fault (5xx, no answer, rate limit) lasts; 2m when 0.
	TransientGrace time.Duration
	// PassTimeout bounds one pass, so a slow server cannot hold a worker that
	// other tenants wait for; 2m when 0.
	PassTimeout time.Duration

	// answers is when each space's servers last answered a pass.
	answers scope.AnswerClock
	// checkpoints are what chat passes cut off by a passing fault found (chatphase.Checkpoints).
	checkpoints chatphase.Checkpoints
	// changes are the changes the passes in flight made, announced once per pass
	// (scope.PassChanges).
	changes scope.PassChanges
	// kitOnce builds k, what every phase works with, from the settings above.
	kitOnce sync.Once
	k       *scope.Kit
}

// Defaults of the reconciler's durations.
const (
	defaultTransientGrace = 2 * time.Minute
	defaultPassTimeout    = 2 * time.Minute
)

// +kubebuilder:rbac:groups=collab.opencommons.io,resources=collaborationspaces,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=collab.opencommons.io,resources=collaborationspaces/status,verbs=get;patch
// +kubebuilder:rbac:groups=collab.opencommons.io,resources=collaborationspaces/finalizers,verbs=update
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=get;list;watch;create;patch

// Reconcile reads top to bottom: get, finalizer first, one deferred status patch,
// deletion or the ordered phases.
func (r *Pass) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	space := &collabv1.CollaborationSpace{}
	if err := r.Get(ctx, req.NamespacedName, space); err != nil {
		if apierrors.IsNotFound(err) {
			r.answers.Forget(req.NamespacedName)
			r.checkpoints.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	if space.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(space, SpaceFinalizer) {
		if err := r.addFinalizer(ctx, space); err != nil {
			return outcome.RequeueOnConflict(err)
		}
	}

	s := &scope.Scope{Space: space, Before: space.DeepCopy(), Now: time.Now(), Grace: cmp.Or(r.TransientGrace, defaultTransientGrace),
		Answers: &r.answers}
	// The status is written with the outer context, so a pass cut off by its
	// deadline still reports why.
	passCtx, cancel := context.WithTimeout(ctx, cmp.Or(r.PassTimeout, defaultPassTimeout))
	defer cancel()
	defer func() {
		r.kit().AnnounceChanges(space)
		if err := r.patchStatus(ctx, s, retErr); err != nil {
			retErr = errors.Join(retErr, err)
		}
		logPassEnd(ctx, s, result)
	}()

	if !space.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(passCtx, s)
	}
	// A space that breaks a policy changes nothing (enforcePolicy), but for access
	// its spec no longer grants: that is taken away all the same.
	if stop, err := r.enforcePolicy(ctx, s); stop {
		if revokeErr := r.rbacPhase().Revoke(passCtx, space); revokeErr != nil {
			return ctrl.Result{}, revokeErr // retried; the policy's verdict stands in PolicyCompliant
		}
		return ctrl.Result{}, err
	}
	return runPhases(passCtx, s, r.phases())
}

// addFinalizer adds the finalizer before anything is created, so nothing the pass
// makes can outlive the space unaccounted for. The optimistic lock keeps finalizers
// that others added meanwhile.
func (r *Pass) addFinalizer(ctx context.Context, space *collabv1.CollaborationSpace) error {
	patch := client.MergeFromWithOptions(space.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.AddFinalizer(space, SpaceFinalizer)
	return r.Patch(ctx, space, patch)
}
