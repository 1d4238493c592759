package space

import (
	"context"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/directory"
	"github.com/opencommons/collab-operator/internal/policy"
	"github.com/opencommons/collab-operator/internal/spaceindex"
	"github.com/opencommons/collab-operator/internal/spacepass/chatphase"
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

// The watches of what enforcePolicy reads besides the space (Setup): a
// change of a CollaborationPolicy's or a ForumBackend's spec, or of a namespace's
// labels, wakes the spaces it may concern. ChatBackends already wake their spaces.
var (
	policyChanged      = builder.WithPredicates(predicate.GenerationChangedPredicate{})
	backendSpecChanged = builder.WithPredicates(predicate.GenerationChangedPredicate{})
	namespaceRelabeled = builder.WithPredicates(namespaceLabelsChanged())
)

// spacesOfPolicy wakes the spaces of the namespaces a policy selected before or
// selects now.
func spacesOfPolicy(c client.Reader) handler.EventHandler {
	enqueue := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
		var sels []*metav1.LabelSelector
		for _, o := range objs {
			if p, ok := o.(*collabv1.CollaborationPolicy); ok {
				sels = append(sels, p.Spec.NamespaceSelector)
			}
		}
		var spaces collabv1.CollaborationSpaceList // read only: the cache's own objects
		if err := c.List(ctx, &spaces, client.UnsafeDisableDeepCopy); err != nil {
			return
		}
		nsSelected := map[string]bool{}
		for _, s := range spaces.Items {
			selected, seen := nsSelected[s.Namespace]
			if !seen {
				ns, err := policy.NamespaceOf(ctx, c, s.Namespace)
				selected = err == nil && slices.ContainsFunc(sels, func(sel *metav1.LabelSelector) bool { return policy.SelectsNamespace(sel, ns) })
				nsSelected[s.Namespace] = selected
			}
			if selected {
				q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}})
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
	}
}

// spacesInNamespace wakes every space of a namespace.
func spacesInNamespace(c client.Reader) handler.EventHandler {
	return spacesListed(c, func(obj client.Object) client.ListOption { return client.InNamespace(obj.GetName()) })
}

// namespaceLabelsChanged lets through only a change of a namespace's labels, which
// is what decides the policies that select it.
func namespaceLabelsChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
		DeleteFunc: func(event.DeleteEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return !labels.Equals(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels())
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// spacesOfForumBackend wakes every space on a ForumBackend.
func spacesOfForumBackend(c client.Reader) handler.EventHandler {
	return spacesListed(c, func(obj client.Object) client.ListOption {
		return client.MatchingFields{spaceindex.ForumBackend: obj.GetName()}
	})
}

// spacesOfDirectory wakes the spaces that use a group whose people changed, and
// every space of the directory when it turns Ready or not.
func spacesOfDirectory(c client.Reader) handler.TypedEventHandler[client.Object, reconcile.Request] {
	return handler.Funcs{
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			old, ok1 := e.ObjectOld.(*collabv1.PeopleDirectory)
			cur, ok2 := e.ObjectNew.(*collabv1.PeopleDirectory)
			if !ok1 || !ok2 {
				return
			}
			changed := map[string]bool{}
			digests := map[string]string{}
			for _, g := range old.Status.Groups {
				digests[g.Name] = g.Digest
			}
			for _, g := range cur.Status.Groups {
				if d, ok := digests[g.Name]; !ok || d != g.Digest {
					changed[g.Name] = true
				}
			}
			all := readyStatus(old) != readyStatus(cur)
			if !all && len(changed) == 0 {
				return
			}
			var spaces collabv1.CollaborationSpaceList // read only: the cache's own objects
			if err := c.List(ctx, &spaces, client.UnsafeDisableDeepCopy); err != nil {
				return
			}
			for _, s := range spaces.Items {
				for _, g := range directory.GroupsOf(&s) {
					if all || changed[g] {
						q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}})
						break
					}
				}
			}
		},
	}
}

func readyStatus(d *collabv1.PeopleDirectory) metav1.ConditionStatus {
	if c := meta.FindStatusCondition(d.Status.Conditions, collabv1.ReadyCondition); c != nil {
		return c.Status
	}
	return metav1.ConditionUnknown
}

// spacesSharedWith wakes the spaces a space shares rooms with, before and
// after a change, so a room shows under the other department as soon as its
// id is recorded and leaves it as soon as the sharing stops.
func spacesSharedWith() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		space, ok := obj.(*collabv1.CollaborationSpace)
		if !ok {
			return nil
		}
		var reqs []reconcile.Request
		for target := range chatphase.RoomsSharedBy(space) {
			ns, name, _ := strings.Cut(target, "/")
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
		}
		return reqs
	})
}

// sharedRoomsChanged lets through the updates that change which recorded rooms
// a space shares with whom.
func sharedRoomsChanged() predicate.Predicate { return spaceUpdateChanges(chatphase.SharedRoomsKey) }
