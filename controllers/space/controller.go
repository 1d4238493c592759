// Package space is the CollaborationSpace controller: what wakes a space (its
// spec, what it owns changing by hand, its backends, the spaces it shares rooms
// with, policies, namespaces' labels, directories, the /sync streams) and the
// spaces' metrics. Each reconcile is one spacepass.Pass.
package space

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers/chatbackend/stream"
	"github.com/opencommons/collab-operator/internal/predicates"
	"github.com/opencommons/collab-operator/internal/spaceindex"
	"github.com/opencommons/collab-operator/internal/spacepass"
)

// Setup registers the space reconciler: it watches spaces, the RBAC objects it
// owns, the chat backends the spaces point at, and the spaces the streams wake.
func Setup(ctx context.Context, mgr ctrl.Manager, r *spacepass.Pass, streams *stream.Streams, opts controller.Options) error {
	if err := spaceindex.Register(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr)
	if streams != nil {
		b = b.WatchesRawSource(source.Channel(streams.Spaces, &handler.EnqueueRequestForObject{}))
	}
	return b.
		For(&collabv1.CollaborationSpace{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{},
				predicates.DeletionMarked()))).
		Owns(&rbacv1.Role{}, changedByOthers).
		Owns(&rbacv1.RoleBinding{}, changedByOthers).
		Owns(&appsv1.Deployment{}, changedByOthers).
		Owns(&corev1.Service{}, changedByOthers).
		Owns(&corev1.PersistentVolumeClaim{}, changedByOthers).
		Owns(&networkingv1.NetworkPolicy{}, changedByOthers).
		Owns(&networkingv1.Ingress{}, changedByOthers).
		Watches(&collabv1.ChatBackend{}, spacesOfChatBackend(mgr.GetClient()), builder.WithPredicates(chatBackendChanged())).
		Watches(&collabv1.CollaborationSpace{}, spacesSharingWith(mgr.GetClient()), builder.WithPredicates(chatSpaceChanged())).
		Watches(&collabv1.CollaborationSpace{}, spacesSharedWith(), builder.WithPredicates(sharedRoomsChanged())).
		Watches(&collabv1.CollaborationPolicy{}, spacesOfPolicy(mgr.GetClient()), policyChanged).
		WatchesMetadata(&corev1.Namespace{}, spacesInNamespace(mgr.GetClient()), namespaceRelabeled).
		Watches(&collabv1.ForumBackend{}, spacesOfForumBackend(mgr.GetClient()), backendSpecChanged).
		Watches(&collabv1.PeopleDirectory{}, spacesOfDirectory(mgr.GetClient())).
		WithOptions(opts).
		Named("collaborationspace").
		Complete(r)
}
