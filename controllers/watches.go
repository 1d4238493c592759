package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/spaceindex"
)

// spacesOfChatBackend requeues every space on a ChatBackend when the backend changes,
// e.g. when it turns Ready after the server came back.
func spacesOfChatBackend(c client.Reader) handler.EventHandler {
	return spacesListed(c, func(obj client.Object) client.ListOption {
		return client.MatchingFields{spaceindex.ChatBackend: obj.GetName()}
	})
}

// spacesListed wakes the spaces a list with the option built from the event's
// object finds.
func spacesListed(c client.Reader, option func(client.Object) client.ListOption) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		var spaces collabv1.CollaborationSpaceList
		if err := c.List(ctx, &spaces, option(obj)); err != nil {
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(spaces.Items))
		for _, s := range spaces.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}})
		}
		return reqs
	})
}

// changedByOthers ignores the creation of owned objects: the pass that created them
// already knows, and requeueing on it ran a second full pass over every new space
// (three chat-server reads per room, measured by make bench). Updates and deletions, by
// hand or by the cluster, still start a pass.
var changedByOthers = builder.WithPredicates(predicate.Funcs{
	CreateFunc: func(event.CreateEvent) bool { return false },
})

// chatBackendChanged lets through the backend changes that concern its spaces: a
// new spec, or its server coming back (Ready turning True). Status writes such as
// a saved stream position or a server version do not wake every space.
func chatBackendChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			old, okOld := e.ObjectOld.(*collabv1.ChatBackend)
			cur, okNew := e.ObjectNew.(*collabv1.ChatBackend)
			if !okOld || !okNew || old.Generation != cur.Generation {
				return true
			}
			return !meta.IsStatusConditionTrue(old.Status.Conditions, collabv1.ReadyCondition) &&
				meta.IsStatusConditionTrue(cur.Status.Conditions, collabv1.ReadyCondition)
		},
	}
}

// spacesSharingWith wakes the spaces whose rooms are shared with a space that just
// got its chat space, so the shared room admits its members at once.
func spacesSharingWith(c client.Reader) handler.EventHandler {
	return spacesListed(c, func(obj client.Object) client.ListOption {
		return client.MatchingFields{spaceindex.SharedWith: obj.GetNamespace() + "/" + obj.GetName()}
	})
}

// chatSpaceChanged lets through a space getting, changing or losing its chat
// space room: what the spaces sharing rooms with it wait for.
func chatSpaceChanged() predicate.Predicate { return spaceUpdateChanges(spaceindex.ChatSpaceID) }

// spaceUpdateChanges lets through the updates of a space that change key, and
// nothing else: a space going away gives the spaces it touches nothing to add,
// and waking them would narrow their allow lists and links mid-uninstall.
func spaceUpdateChanges(key func(*collabv1.CollaborationSpace) string) predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			old, okOld := e.ObjectOld.(*collabv1.CollaborationSpace)
			cur, okNew := e.ObjectNew.(*collabv1.CollaborationSpace)
			return okOld && okNew && key(old) != key(cur)
		},
	}
}
