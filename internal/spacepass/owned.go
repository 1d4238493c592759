package spacepass

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// The one Secret a space owns is its forum's admin Secret: written and deleted by
// name, never listed or watched, so the manager needs no list or watch on Secrets.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create;update;patch;delete

// applyOwned creates or updates an object the space owns: labelled, controlled by the
// space, with mutate setting what the operator manages. An event records each change;
// an object that already matches is not written.
func (r *Pass) applyOwned(ctx context.Context, space *collabv1.CollaborationSpace,
	obj client.Object, kind string, mutate func() error) error {
	mutateOwned := func() error {
		obj.SetLabels(ownedLabels(obj.GetLabels(), space))
		if err := mutate(); err != nil {
			return err
		}
		return controllerutil.SetControllerReference(space, obj, r.Scheme)
	}
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, obj, mutateOwned)
	if apierrors.IsAlreadyExists(err) {
		// Not in the cache, yet there: it carries another shard's label (the
		// space moved to this shard) or the cache lags. Bring the live one in line.
		op, err = controllerutil.CreateOrUpdate(ctx, liveGets{Client: r.Client, live: r.liveReader()}, obj, mutateOwned)
	}
	if err != nil {
		return fmt.Errorf("cannot apply %s %s: %w", kind, obj.GetName(), err)
	}
	r.recordOperation(space, kind, obj.GetName(), op)
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

// setIfDiffers assigns desired to *current unless every field desired sets already
// holds the same value there. Fields the API server defaults (and desired leaves
// empty) do not count, so a steady state causes no write.
func setIfDiffers[T any](current *T, desired T) {
	if !equality.Semantic.DeepDerivative(desired, *current) {
		*current = desired
	}
}

// ownedKind is a kind of object a space may own, and what Archive does with it.
type ownedKind struct {
	kind    string
	newList func() client.ObjectList
	archive archiveAction
}

// archiveAction is what the Archive deletion policy does with an owned object.
type archiveAction int

const (
	// archiveDelete deletes the object: it holds no data.
	archiveDelete archiveAction = iota
	// archiveKeep lets go of the object: it holds data (a volume) or the key to it.
	archiveKeep
	// archiveScaleDown keeps a workload at zero replicas, so the archive can be
	// opened again by scaling it up.
	archiveScaleDown
)

var ownedKinds = []ownedKind{
	{kind: "Role", newList: func() client.ObjectList { return &rbacv1.RoleList{} }},
	{kind: "RoleBinding", newList: func() client.ObjectList { return &rbacv1.RoleBindingList{} }},
	{kind: "Ingress", newList: func() client.ObjectList { return &networkingv1.IngressList{} }},
	{kind: "NetworkPolicy", newList: func() client.ObjectList { return &networkingv1.NetworkPolicyList{} }},
	{kind: "Service", newList: func() client.ObjectList { return &corev1.ServiceList{} }},
	{kind: "Deployment", newList: func() client.ObjectList { return &appsv1.DeploymentList{} }, archive: archiveScaleDown},
	{kind: "PersistentVolumeClaim", newList: func() client.ObjectList { return &corev1.PersistentVolumeClaimList{} }, archive: archiveKeep},
}

// adminSecretKind is the forum's admin Secret. Archive keeps it: it is the key to the
// kept volume. It is not in ownedKinds because Secrets are never listed.
var adminSecretKind = ownedKind{kind: "Secret", archive: archiveKeep}

// ownedObject is an object the space controls, with its kind.
type ownedObject struct {
	client.Object
	ownedKind
}

// ownedObjects lists every object this space controls, found by its labels.
func (r *Pass) ownedObjects(ctx context.Context, space *collabv1.CollaborationSpace,
	kinds []ownedKind) ([]ownedObject, error) {
	sel := client.MatchingLabels{collabv1.SpaceLabel: space.Name, collabv1.ManagedByLabel: collabv1.ManagedByValue}
	var out []ownedObject
	for _, k := range kinds {
		list := k.newList()
		if err := r.List(ctx, list, client.InNamespace(space.Namespace), sel); err != nil {
			return nil, fmt.Errorf("cannot list %ss: %w", k.kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			obj := item.(client.Object)
			if metav1.IsControlledBy(obj, space) {
				out = append(out, ownedObject{Object: obj, ownedKind: k})
			}
		}
	}
	return out, nil
}

// ownedSecrets returns the Secrets this space controls, read by name: its forum's
// admin Secret, if it has one.
func (r *Pass) ownedSecrets(ctx context.Context, space *collabv1.CollaborationSpace) ([]ownedObject, error) {
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: space.Namespace, Name: r.deployer().AdminSecretName(space.Name)}
	if err := r.Get(ctx, key, secret); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("cannot get Secret %s: %w", key.Name, err)
	}
	if !metav1.IsControlledBy(secret, space) {
		return nil, nil
	}
	return []ownedObject{{Object: secret, ownedKind: adminSecretKind}}, nil
}

func clientKey(obj client.Object) client.ObjectKey { return client.ObjectKeyFromObject(obj) }
