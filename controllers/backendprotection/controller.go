// Package backendprotection keeps a ChatBackend or ForumBackend from being
// deleted while a space still uses it or holds content on it: a finalizer on each
// backend in use, and a Warning event naming the spaces that hold it.
package backendprotection

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/outcome"
	"github.com/opencommons/collab-operator/internal/predicates"
	"github.com/opencommons/collab-operator/internal/spaceindex"
	"github.com/opencommons/collab-operator/internal/statuspatch"
)

// Finalizer keeps a ChatBackend or ForumBackend while spaces
// reference it, as kubernetes.io/pvc-protection keeps a claim a pod uses: deleting
// a backend in use would strand its spaces' rooms or categories, open and
// aliased, with nothing left that could archive them. Spaces being deleted count,
// since carrying out their deletionPolicy needs the backend.
const Finalizer = "collab.opencommons.io/backend-protection"

// maxUsersListed bounds status.usedBy.spaces.
const maxUsersListed = 20

// +kubebuilder:rbac:groups=collab.opencommons.io,resources=chatbackends;forumbackends,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=collab.opencommons.io,resources=chatbackends/status;forumbackends/status,verbs=patch

// backendKind says how to read one kind of backend and find its spaces.
type backendKind struct {
	kind string
	// index is the field index of spaces by the backend they name.
	index string
	// uses is what the index holds for a space.
	uses func(client.Object) []string
	// holds reports whether a space recorded anything on the backend it names.
	holds  func(*collabv1.CollaborationSpace) bool
	newObj func() client.Object
	// usedBy points at the backend's status.usedBy.
	usedBy func(client.Object) **collabv1.BackendUsage
}

var (
	chatBackendKind = backendKind{
		kind: "ChatBackend", index: spaceindex.ChatBackend, uses: spaceindex.ChatBackendOf, holds: spaceindex.HoldsChat,
		newObj: func() client.Object { return &collabv1.ChatBackend{} },
		usedBy: func(o client.Object) **collabv1.BackendUsage { return &o.(*collabv1.ChatBackend).Status.UsedBy },
	}
	forumBackendKind = backendKind{
		kind: "ForumBackend", index: spaceindex.ForumBackend, uses: spaceindex.ForumBackendOf, holds: spaceindex.HoldsForum,
		newObj: func() client.Object { return &collabv1.ForumBackend{} },
		usedBy: func(o client.Object) **collabv1.BackendUsage { return &o.(*collabv1.ForumBackend).Status.UsedBy },
	}
)

// Reconciler keeps the protection finalizer on the backends of one
// kind and their status.usedBy: the spaces that reference them.
type Reconciler struct {
	client.Client
	Recorder events.EventRecorder
	// APIReader lists spaces straight from the API server before a finalizer is
	// removed, so a space the cache has not seen yet still counts.
	APIReader client.Reader
	kind      backendKind
}

// Reconcile adds the finalizer to a backend, records its users, and removes the
// finalizer from a backend being deleted once no space references it.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := r.kind.newObj()
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	deleting := !obj.GetDeletionTimestamp().IsZero()
	if !deleting && !controllerutil.ContainsFinalizer(obj, Finalizer) {
		patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
		controllerutil.AddFinalizer(obj, Finalizer)
		if err := r.Patch(ctx, obj, patch); err != nil {
			return outcome.RequeueOnConflict(client.IgnoreNotFound(err))
		}
	}
	users, err := r.users(ctx, obj.GetName(), deleting, false)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.recordUsage(ctx, obj, users); err != nil {
		return ctrl.Result{}, err
	}
	if !deleting || !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return ctrl.Result{}, nil
	}
	if len(users) == 0 {
		// The cache may lag behind a space created a moment ago: ask the API server.
		if users, err = r.users(ctx, obj.GetName(), deleting, true); err != nil {
			return ctrl.Result{}, err
		}
	}
	if len(users) > 0 {
		// Reconciled on the deletion and on each change of its spaces, not polled.
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, collabv1.ReasonInUse, "Delete",
			"Not deleted while %d spaces use it (%s): delete them, or let them go, first; see status.usedBy",
			len(users), strings.Join(users[:min(len(users), maxUsersListed)], ", "))
		return ctrl.Result{}, nil
	}
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(obj, Finalizer)
	if err := r.Patch(ctx, obj, patch); err != nil {
		return outcome.RequeueOnConflict(client.IgnoreNotFound(err))
	}
	ctrl.LoggerFrom(ctx).Info("Released a backend no space uses any more", r.kind.kind, obj.GetName())
	return ctrl.Result{}, nil
}

// users lists, sorted, the spaces (namespace/name) that reference the backend,
// from the cache or, when live, from the API server. An API server that no longer
// serves spaces (their CRD is gone) has none. While the backend is being deleted,
// a space that recorded nothing on it does not count: it named the backend only
// after the deletion began (admission refuses that where it is installed, and
// the space is Stalled, PolicyViolation, before it makes anything), and since
// backendRef cannot be removed again it would otherwise keep the backend for
// as long as the space lives.
func (r *Reconciler) users(ctx context.Context, name string, deleting, live bool) ([]string, error) {
	var spaces collabv1.CollaborationSpaceList
	var err error
	if live && r.APIReader != nil {
		err = r.APIReader.List(ctx, &spaces) // the API server indexes no spec field
	} else {
		err = r.List(ctx, &spaces, client.MatchingFields{r.kind.index: name})
	}
	if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) { // not served: the CRD is gone
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot list the spaces of %s %s: %w", r.kind.kind, name, err)
	}
	var users []string
	for i := range spaces.Items {
		s := &spaces.Items[i]
		if slices.Contains(r.kind.uses(s), name) && (!deleting || r.kind.holds(s)) {
			users = append(users, s.Namespace+"/"+s.Name)
		}
	}
	slices.Sort(users)
	return users, nil
}

// recordUsage writes status.usedBy when it changed.
func (r *Reconciler) recordUsage(ctx context.Context, obj client.Object, users []string) error {
	before := obj.DeepCopyObject().(client.Object)
	usage := &collabv1.BackendUsage{Count: int32(len(users)), Spaces: users}
	if len(users) > maxUsersListed {
		usage.Spaces = users[:maxUsersListed]
	}
	if len(users) == 0 {
		usage = nil
	}
	usedBy := r.kind.usedBy(obj)
	if equality.Semantic.DeepEqual(*usedBy, usage) {
		return nil
	}
	*usedBy = usage
	// usedBy only: the protection owns no condition of the backend.
	return statuspatch.Patch(ctx, r.Client, before.(statuspatch.Object), obj.(statuspatch.Object))
}

// SetupWithManager watches backends of the kind, and spaces appearing, going, or
// changing the backend they name. The space reconciler registers the indexes.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(r.kind.newObj(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{},
			predicates.DeletionMarked(), finalizersChanged()))).
		Watches(&collabv1.CollaborationSpace{}, backendsOfSpace(r.kind), builder.WithPredicates(referencesChanged(r.kind))).
		WithOptions(opts).
		Named(strings.ToLower(r.kind.kind) + "-protection").
		Complete(r)
}

// finalizersChanged lets through a change of an object's finalizers: someone
// removed the protection by hand, and it is put back.
func finalizersChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return !slices.Equal(e.ObjectOld.GetFinalizers(), e.ObjectNew.GetFinalizers())
	}}
}

// referencesChanged lets through the space events that can change a backend's
// users: a space created or gone, or naming another backend. Status writes, the
// bulk of space events, are not.
func referencesChanged(kind backendKind) predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return !slices.Equal(kind.uses(e.ObjectOld), kind.uses(e.ObjectNew))
	}}
}

// backendsOfSpace requeues the backends a space names.
func backendsOfSpace(kind backendKind) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		var reqs []reconcile.Request
		for _, n := range kind.uses(obj) {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: n}})
		}
		return reqs
	})
}

// Setup registers one protection reconciler per kind of backend.
// It needs the indexes of spaces by backend, which the space reconciler registers.
func Setup(mgr ctrl.Manager, c client.Client, recorder events.EventRecorder, opts controller.Options) error {
	for _, kind := range []backendKind{chatBackendKind, forumBackendKind} {
		r := &Reconciler{Client: c, Recorder: recorder, APIReader: mgr.GetAPIReader(), kind: kind}
		if err := r.SetupWithManager(mgr, opts); err != nil {
			return err
		}
	}
	return nil
}
