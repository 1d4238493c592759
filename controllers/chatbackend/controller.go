// Package chatbackend is the ChatBackend controller: it connects to each chat
// server, reports its version and whether its /sync stream runs (package stream
// keeps the streams), keeps the directory space listing the Open spaces, and runs
// the reaper of rooms interrupted creates left behind (package reaper).
package chatbackend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers/chatbackend/reaper"
	"github.com/opencommons/collab-operator/controllers/chatbackend/stream"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/outcome"
	"github.com/opencommons/collab-operator/internal/spaceindex"
	"github.com/opencommons/collab-operator/internal/statuspatch"
	"github.com/opencommons/collab-operator/internal/uninstall"
)

// Reconciler checks that a chat server answers and accepts the operator's
// credentials, and keeps the organisation's directory of Open spaces.
type Reconciler struct {
	client.Client
	Recorder events.EventRecorder
	// APIReader reads Secrets without caching them; the Client when nil.
	APIReader client.Reader
	// CredentialsNamespace is the one namespace backends' credentials Secrets are read from.
	CredentialsNamespace string
	Chat                 chat.Connector
	// Uninstall tells whether the operator is being uninstalled: the directory is
	// then left as it is, listing the spaces being released (uninstall.go).
	Uninstall uninstall.Check
	// Streams runs each backend's stream of changes (chatsync.go); none when nil.
	Streams *stream.Streams
	// Reaper finds rooms interrupted creates left behind; none when nil.
	Reaper *reaper.Reaper
	// StreamsOnly: another manager keeps the backend (status, directory,
	// reaper); this one, a shard's (shard.go), only runs the backend's /sync
	// stream, which wakes its own spaces.
	StreamsOnly bool
}

// +kubebuilder:rbac:groups=collab.opencommons.io,resources=chatbackends,verbs=get;list;watch
// +kubebuilder:rbac:groups=collab.opencommons.io,resources=chatbackends/status,verbs=patch

// Reconcile connects, reads the server's versions and who the operator is, and
// converges the directory space; then it polls.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	backend := &collabv1.ChatBackend{}
	if err := r.Get(ctx, req.NamespacedName, backend); err != nil {
		if apierrors.IsNotFound(err) && r.Streams != nil {
			r.Streams.Stop(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if r.StreamsOnly {
		return r.stream(ctx, backend)
	}
	before := backend.DeepCopy()
	defer func() {
		if err := r.patchStatus(ctx, before, backend, retErr); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()

	conn, err := connect.ToChat(ctx, r.Client, r.credentials(), r.Chat, backend.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.observeServer(ctx, conn, backend); err != nil {
		return ctrl.Result{}, err
	}
	if r.Streams != nil {
		r.Streams.Ensure(backend.Name, conn.Client, backend.Status.SyncToken)
	}
	if err := r.reconcileDirectory(ctx, conn, backend); err != nil {
		return ctrl.Result{}, err
	}
	if r.Reaper == nil {
		return ctrl.Result{RequeueAfter: conn.PollInterval()}, nil
	}
	if err := r.Reaper.Reap(ctx, conn, backend); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: min(conn.PollInterval(), r.Reaper.Every())}, nil
}

// stream runs the backend's /sync stream from its stored position, and nothing
// else: a shard's part of a backend.
func (r *Reconciler) stream(ctx context.Context, backend *collabv1.ChatBackend) (ctrl.Result, error) {
	conn, err := connect.ToChat(ctx, r.Client, r.credentials(), r.Chat, backend.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	if r.Streams != nil {
		r.Streams.Ensure(backend.Name, conn.Client, backend.Status.SyncToken)
	}
	return ctrl.Result{RequeueAfter: conn.PollInterval()}, nil
}

func (r *Reconciler) observeServer(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend) error {
	versions, err := conn.Client.Versions(ctx)
	if err != nil {
		return fmt.Errorf("cannot read the server's versions: %w", err)
	}
	userID, err := conn.Client.Whoami(ctx)
	if err != nil {
		return fmt.Errorf("cannot check the credentials: %w", err)
	}
	backend.Status.ServerVersions = versions
	backend.Status.UserID = userID
	return nil
}

// reconcileDirectory keeps the directory space listing every Open space on this
// backend, so anyone in the organisation can find them.
func (r *Reconciler) reconcileDirectory(ctx context.Context, conn *connect.ChatConnection, backend *collabv1.ChatBackend) error {
	dir := r.Chat.Server(backend).DirectorySpace
	if dir == nil {
		backend.Status.DirectorySpaceID = ""
		return nil
	}
	children, err := r.openSpaceIDs(ctx, backend.Name)
	if err != nil {
		return err
	}
	spec := conn.Planner.Directory(backend.Name, *dir, backend.Status.UserID, children)
	lookup := chat.Lookup{KnownID: backend.Status.DirectorySpaceID, Operator: backend.Status.UserID}
	observed, _, err := chat.Locate(ctx, conn.Client, spec, lookup)
	if err != nil {
		return fmt.Errorf("cannot find the directory space: %w", outcome.TerminalIfConflict(err))
	}
	if observed == nil {
		if r.leaveForUninstall(ctx, "the directory") {
			return nil
		}
		if observed, err = conn.Client.Create(ctx, spec); err != nil {
			return fmt.Errorf("cannot create the directory space: %w", outcome.TerminalIfConflict(err))
		}
		r.Recorder.Eventf(backend, nil, corev1.EventTypeNormal, collabv1.ReasonDirectoryCreated, "Create",
			"Created directory space %s listing %d open spaces", observed.Alias, len(children))
	} else if actions, report := conn.Planner.Plan(spec, *observed, chat.PlanOptions{OperatorUserID: backend.Status.UserID, PruneChildren: true}); len(actions) > 0 {
		if r.leaveForUninstall(ctx, "the directory") {
			return nil
		}
		if err := conn.Client.Update(ctx, observed.RoomID, actions); err != nil {
			return fmt.Errorf("cannot update the directory space: %w", err)
		}
		r.Recorder.Eventf(backend, nil, corev1.EventTypeNormal, collabv1.ReasonDirectoryUpdated, "Update",
			"Updated %s of directory space %s", strings.Join(report.Drift, ", "), observed.Alias)
	}
	backend.Status.DirectorySpaceID = observed.RoomID
	return nil
}

// leaveForUninstall reports whether a write to what must wait because the operator
// may be being uninstalled (uninstall.go): deleting the CRD deletes every space, and
// a directory or reaper acting on that would prune and re-alias rooms that must be
// kept. It is asked after what the write is based on was read, not before: the CRD
// is marked for deletion before its spaces are, so a space list that already shows
// their deletion is always followed by an answer that says so. Asked first, a
// deletion starting in between slipped a write through.
func (r *Reconciler) leaveForUninstall(ctx context.Context, what string) bool {
	why, err := r.Uninstall.Uninstalling(ctx)
	if err != nil || why != "" {
		ctrl.LoggerFrom(ctx).Info("Leaving "+what+" as it is: the operator may be being uninstalled", "why", why, "error", err)
		return true
	}
	return false
}

// openSpaceIDs lists the space rooms of the Open spaces on a backend.
func (r *Reconciler) openSpaceIDs(ctx context.Context, backend string) ([]string, error) {
	var spaces collabv1.CollaborationSpaceList
	if err := r.List(ctx, &spaces, client.MatchingFields{spaceindex.ChatBackend: backend}); err != nil {
		return nil, fmt.Errorf("cannot list spaces: %w", err)
	}
	var ids []string
	for _, s := range spaces.Items {
		open := s.Spec.Visibility == collabv1.VisibilityOpen && s.DeletionTimestamp.IsZero()
		if open && s.Status.Chat != nil && s.Status.Chat.SpaceID != "" {
			ids = append(ids, s.Status.Chat.SpaceID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// patchStatus sets Ready from the pass's outcome and writes the status if it changed.
func (r *Reconciler) patchStatus(ctx context.Context, before, backend *collabv1.ChatBackend, passErr error) error {
	cond := metav1.Condition{Type: collabv1.ReadyCondition, ObservedGeneration: backend.Generation}
	if passErr == nil {
		cond.Status, cond.Reason = metav1.ConditionTrue, collabv1.ReasonConnected
		cond.Message = fmt.Sprintf("Connected as %s; the server speaks %s", backend.Status.UserID,
			strings.Join(backend.Status.ServerVersions, ", "))
		backend.Status.ObservedGeneration = backend.Generation
	} else {
		cond.Status = metav1.ConditionFalse
		e := outcome.Classify(collabv1.ReadyCondition, collabv1.ReasonChatFailed, passErr)
		cond.Reason, cond.Message = e.Reason, e.Message()
	}
	meta.SetStatusCondition(&backend.Status.Conditions, cond)
	r.setStreaming(backend)
	return statuspatch.Patch(ctx, r.Client, before, backend, collabv1.ReadyCondition, collabv1.StreamingCondition)
}

// setStreaming says whether the server's stream of changes runs, or its spaces are
// polled instead.
func (r *Reconciler) setStreaming(backend *collabv1.ChatBackend) {
	if r.Streams == nil {
		return
	}
	cond := metav1.Condition{Type: collabv1.StreamingCondition, ObservedGeneration: backend.Generation, Status: metav1.ConditionTrue,
		Reason: collabv1.ReasonStreaming, Message: "Changes made on the server wake their spaces within a second; spaces are also compared in full every " +
			(&connect.ChatConnection{Backend: backend}).PollInterval().String()}
	if healthy, lastErr := r.Streams.Status(backend.Name); !healthy {
		cond.Status, cond.Reason = metav1.ConditionFalse, collabv1.ReasonStreamDown
		cond.Message = fmt.Sprintf("The server's stream of changes does not run (%s); spaces are compared every %s until it does",
			orUnknown(lastErr), min((&connect.ChatConnection{Backend: backend}).PollInterval(), chat.FallbackPollInterval))
	}
	meta.SetStatusCondition(&backend.Status.Conditions, cond)
}

func orUnknown(s string) string {
	if s == "" {
		return "not started yet"
	}
	return s
}

// SetupWithManager watches backends and the spaces listed in their directories,
// and the health of the backends' streams.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr ctrl.Manager, opts controller.Options) error {
	b := ctrl.NewControllerManagedBy(mgr)
	if r.Streams != nil {
		b = b.WatchesRawSource(source.Channel(r.Streams.Backends, &handler.EnqueueRequestForObject{}))
	}
	b = b.For(&collabv1.ChatBackend{}, builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	if !r.StreamsOnly {
		b = b.Watches(&collabv1.CollaborationSpace{}, backendOfSpace(), builder.WithPredicates(directoryChanged()))
	}
	return b.
		WithOptions(opts).
		Named("chatbackend").
		Complete(r)
}

// directoryChanged lets through the space events that can change the directory:
// an Open space appearing or going, a space turning Open or not, or an Open space
// getting its space room. Without it every space's creation and status writes
// would cost its backend a pass (six Matrix requests), though only Open spaces
// are listed.
func directoryChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return isOpen(e.Object) },
		DeleteFunc: func(e event.DeleteEvent) bool { return isOpen(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			old, okOld := e.ObjectOld.(*collabv1.CollaborationSpace)
			cur, okNew := e.ObjectNew.(*collabv1.CollaborationSpace)
			if !okOld || !okNew {
				return true
			}
			if !isOpen(old) && !isOpen(cur) {
				return false
			}
			return old.Spec.Visibility != cur.Spec.Visibility || spaceindex.ChatSpaceID(old) != spaceindex.ChatSpaceID(cur) ||
				old.DeletionTimestamp.IsZero() != cur.DeletionTimestamp.IsZero()
		},
	}
}

// isOpen reports whether obj is an Open space, one the directory lists; anything
// that is not a space counts as Open, so its events are not lost.
func isOpen(obj client.Object) bool {
	s, ok := obj.(*collabv1.CollaborationSpace)
	return !ok || s.Spec.Visibility == collabv1.VisibilityOpen
}

// backendOfSpace requeues a space's backend, so its directory follows the Open spaces.
func backendOfSpace() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		names := spaceindex.ChatBackendOf(obj)
		reqs := make([]reconcile.Request, 0, len(names))
		for _, n := range names {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: n}})
		}
		return reqs
	})
}

func (r *Reconciler) credentials() connect.Credentials {
	return connect.NewCredentials(r.APIReader, r.Client, r.CredentialsNamespace)
}
