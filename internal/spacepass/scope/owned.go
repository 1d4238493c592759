package scope

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// The one Secret a space owns is its forum's admin Secret: written and deleted by
// name, never listed or watched, so the manager needs no list or watch on Secrets.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create;update;patch;delete

// ApplyOwned creates or updates an object the space owns: labelled, controlled by the
// space, with mutate setting what the operator manages. An event records each change;
// an object that already matches is not written.
func (r *Kit) ApplyOwned(ctx context.Context, space *collabv1.CollaborationSpace,
	obj client.Object, kind string, mutate func() error) error {
	mutateOwned := func() error {
		obj.SetLabels(OwnedLabels(obj.GetLabels(), space))
		if err := mutate(); err != nil {
			return err
		}
		return controllerutil.SetControllerReference(space, obj, r.Scheme)
	}
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, obj, mutateOwned)
	if apierrors.IsAlreadyExists(err) {
		// Not in the cache, yet there: it carries another shard's label (the
		// space moved to this shard) or the cache lags. Bring the live one in line.
		op, err = controllerutil.CreateOrUpdate(ctx, liveGets{Client: r.Client, live: r.APIReader}, obj, mutateOwned)
	}
	if err != nil {
		return fmt.Errorf("cannot apply %s %s: %w", kind, obj.GetName(), err)
	}
	r.RecordOperation(space, kind, obj.GetName(), op)
	return nil
}

// liveGets is a client whose Get reads from the API server.
type liveGets struct {
	client.Client
	live client.Reader
}

// Get implements client.Reader.
func (c liveGets) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return c.live.Get(ctx, key, obj, opts...)
}

// SetIfDiffers assigns desired to *current unless every field desired sets already
// holds the same value there. Fields the API server defaults (and desired leaves
// empty) do not count, so a steady state causes no write.
func SetIfDiffers[T any](current *T, desired T) {
	if !equality.Semantic.DeepDerivative(desired, *current) {
		*current = desired
	}
}

// OwnedKind is a kind of object a space may own, and what Archive does with it.
type OwnedKind struct {
	Kind    string
	newList func() client.ObjectList
	Archive ArchiveAction
}

// ArchiveAction is what the Archive deletion policy does with an owned object.
type ArchiveAction int

const (
	// ArchiveDelete deletes the object: it holds no data.
	ArchiveDelete ArchiveAction = iota
	// archiveKeep lets go of the object: it holds data (a volume) or the key to it.
	ArchiveKeep
	// archiveScaleDown keeps a workload at zero replicas, so the archive can be
	// opened again by scaling it up.
	ArchiveScaleDown
)

var OwnedKinds = []OwnedKind{
	{Kind: "Role", newList: func() client.ObjectList { return &rbacv1.RoleList{} }},
	{Kind: "RoleBinding", newList: func() client.ObjectList { return &rbacv1.RoleBindingList{} }},
	{Kind: "Ingress", newList: func() client.ObjectList { return &networkingv1.IngressList{} }},
	{Kind: "NetworkPolicy", newList: func() client.ObjectList { return &networkingv1.NetworkPolicyList{} }},
	{Kind: "Service", newList: func() client.ObjectList { return &corev1.ServiceList{} }},
	{Kind: "Deployment", newList: func() client.ObjectList { return &appsv1.DeploymentList{} }, Archive: ArchiveScaleDown},
	{Kind: "PersistentVolumeClaim", newList: func() client.ObjectList { return &corev1.PersistentVolumeClaimList{} }, Archive: ArchiveKeep},
}

// adminSecretKind is the forum's admin Secret. Archive keeps it: it is the key to the
// kept volume. It is not in OwnedKinds because Secrets are never listed.
var adminSecretKind = OwnedKind{Kind: "Secret", Archive: ArchiveKeep}

// OwnedObject is an object the space controls, with its kind.
type OwnedObject struct {
	client.Object
	OwnedKind
}

// OwnedObjects lists every object this space controls, found by its
// controller reference among the operator's objects in its namespace (the
// cache holds only those, and keeps no labels of Roles and RoleBindings).
func (r *Kit) OwnedObjects(ctx context.Context, space *collabv1.CollaborationSpace,
	kinds []OwnedKind) ([]OwnedObject, error) {
	var out []OwnedObject
	for _, k := range kinds {
		list := k.newList()
		if err := r.List(ctx, list, client.InNamespace(space.Namespace)); err != nil {
			return nil, fmt.Errorf("cannot list %ss: %w", k.Kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			obj := item.(client.Object)
			if metav1.IsControlledBy(obj, space) {
				out = append(out, OwnedObject{Object: obj, OwnedKind: k})
			}
		}
	}
	return out, nil
}

// OwnedSecrets returns the Secrets this space controls, read by name: its forum's
// admin Secret, if it has one.
func (r *Kit) OwnedSecrets(ctx context.Context, space *collabv1.CollaborationSpace) ([]OwnedObject, error) {
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: space.Namespace, Name: r.DeployerOf(space).AdminSecretName(space.Name)}
	if err := r.Get(ctx, key, secret); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("cannot get Secret %s: %w", key.Name, err)
	}
	if !metav1.IsControlledBy(secret, space) {
		return nil, nil
	}
	return []OwnedObject{{Object: secret, OwnedKind: adminSecretKind}}, nil
}

// DeletionPolicyOf returns the space's policy, Archive when unset (as the CRD defaults).
func DeletionPolicyOf(space *collabv1.CollaborationSpace) collabv1.DeletionPolicy {
	if space.Spec.DeletionPolicy == "" {
		return collabv1.DeletionPolicyArchive
	}
	return space.Spec.DeletionPolicy
}

func (r *Kit) RetireObject(ctx context.Context, space *collabv1.CollaborationSpace,
	obj OwnedObject, policy collabv1.DeletionPolicy) error {
	base := obj.DeepCopyObject().(client.Object) // what the release patches from
	switch {
	case policy == collabv1.DeletionPolicyRetain:
		return r.releaseObject(ctx, space, obj, base)
	case policy == collabv1.DeletionPolicyDelete || obj.Archive == ArchiveDelete:
		return r.DeleteObject(ctx, space, obj.Object, obj.Kind)
	case obj.Archive == ArchiveScaleDown:
		if dep, ok := obj.Object.(*appsv1.Deployment); ok {
			dep.Spec.Replicas = ptr.To[int32](0)
		}
	}
	return r.releaseObject(ctx, space, obj, base)
}

// releaseObject writes the object without its owner reference (and with any change
// the caller made to it since base), so it outlives the space.
// It patches what changed, never the whole object: the cache holds no rules,
// subjects or labels of Roles and RoleBindings (rbacphase.TrimForCache), and
// writing one whole from it would empty them.
func (r *Kit) releaseObject(ctx context.Context, space *collabv1.CollaborationSpace,
	obj OwnedObject, base client.Object) error {
	patch := client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})
	if err := controllerutil.RemoveControllerReference(space, obj.Object, r.Scheme); err != nil {
		return fmt.Errorf("cannot release %s %s: %w", obj.Kind, obj.GetName(), err)
	}
	if err := r.Patch(ctx, obj.Object, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("cannot release %s %s: %w", obj.Kind, obj.GetName(), err)
	}
	r.RecordOperation(space, obj.Kind, obj.GetName(), opReleased)
	return nil
}

func (r *Kit) DeleteObject(ctx context.Context, space *collabv1.CollaborationSpace, obj client.Object, kind string) error {
	if err := r.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("cannot delete %s %s: %w", kind, obj.GetName(), err)
	}
	r.RecordOperation(space, kind, obj.GetName(), opDeleted)
	return nil
}

// maxLeftBehind bounds the objects a ReleasedUnreachable event lists.
const maxLeftBehind = 10

func BoundedList(items []string) string {
	if len(items) == 0 {
		return "nothing recorded in status"
	}
	if len(items) > maxLeftBehind {
		items = append(items[:maxLeftBehind:maxLeftBehind], fmt.Sprintf("and %d more (see status)", len(items)-maxLeftBehind))
	}
	return strings.Join(items, ", ")
}

// OwnedLabels adds the operator's labels to an object's own.
func OwnedLabels(labels map[string]string, space *collabv1.CollaborationSpace) map[string]string {
	if labels == nil {
		labels = map[string]string{}
	}
	labels[collabv1.SpaceLabel] = space.Name
	labels[collabv1.ManagedByLabel] = collabv1.ManagedByValue
	// The space's shard goes with what it owns, so a shard caches only its own
	// spaces' objects (ShardCacheOptions).
	if shard, ok := space.Labels[collabv1.ShardLabel]; ok {
		labels[collabv1.ShardLabel] = shard
	} else {
		delete(labels, collabv1.ShardLabel)
	}
	return labels
}
