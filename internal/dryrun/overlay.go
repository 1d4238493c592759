package dryrun

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// UnreadableAnnotation marks the stand-in a plan's reader returns for a Secret it
// may not read (the collab-plan role grants none): the stand-in holds no data,
// and its value says why the Secret could not be read. The dry-run clients treat
// what depends on it as something the plan cannot tell.
const UnreadableAnnotation = "collabctl.opencommons.io/unreadable"

// Unreadable reports whether obj is a stand-in for a Secret the plan could not
// read, and why.
func Unreadable(obj client.Object) (string, bool) {
	if obj == nil {
		return "", false
	}
	why, ok := obj.GetAnnotations()[UnreadableAnnotation]
	return why, ok
}

// FromFiles reports whether obj was read from the files being planned and is not
// in the cluster: a live object always has a resourceVersion.
func FromFiles(obj client.Object) bool {
	return obj != nil && obj.GetResourceVersion() == ""
}

type overlayKey struct {
	gk  schema.GroupKind
	key client.ObjectKey
}

// NewOverlay returns a reader of live in which the objects of the files being
// planned (objs: Namespaces, backends) exist when the cluster does not hold them
// yet, so a pull request that adds a Namespace and the space in it plans as the
// creation of everything. An object in the cluster wins over its file, which the
// operator does not see until it is applied. Every namespaced object in a
// Namespace that only the files hold is absent without asking the cluster.
//
// A Secret the cluster refuses to show (Forbidden) reads as a stand-in marked
// with UnreadableAnnotation, so a plan made with a role that grants no Secrets
// goes on and says what it cannot tell instead of failing.
func NewOverlay(live client.WithWatch, objs []client.Object) client.WithWatch {
	o := &overlay{scheme: live.Scheme(), files: map[overlayKey]client.Object{},
		newNamespaces: map[string]bool{}, fileOnly: map[string]bool{}}
	for _, obj := range objs {
		gvk, err := apiutil.GVKForObject(obj, o.scheme)
		if err != nil {
			continue
		}
		o.files[overlayKey{gvk.GroupKind(), client.ObjectKeyFromObject(obj)}] = obj
		if _, ok := obj.(*corev1.Namespace); ok {
			o.newNamespaces[obj.GetName()] = true
		}
	}
	return interceptor.NewClient(live, interceptor.Funcs{Get: o.get, List: o.list})
}

// overlay is the state of NewOverlay's client: the files' objects, and which of
// their Namespaces the cluster lacks.
type overlay struct {
	scheme        *runtime.Scheme
	files         map[overlayKey]client.Object
	newNamespaces map[string]bool
	// fileOnly caches whether a Namespace of the files is absent from the
	// cluster: asked once per plan.
	fileOnly map[string]bool
}

func (o *overlay) isFileOnly(ctx context.Context, c client.WithWatch, ns string) bool {
	if ns == "" || !o.newNamespaces[ns] {
		return false
	}
	v, ok := o.fileOnly[ns]
	if !ok {
		v = apierrors.IsNotFound(c.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}))
		o.fileOnly[ns] = v
	}
	return v
}

func (o *overlay) get(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	gvk, gvkErr := apiutil.GVKForObject(obj, o.scheme)
	if gvkErr != nil {
		return c.Get(ctx, key, obj, opts...)
	}
	notFound := apierrors.NewNotFound(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, key.Name)
	var err error = notFound
	if !o.isFileOnly(ctx, c, key.Namespace) {
		err = c.Get(ctx, key, obj, opts...)
	}
	switch {
	case err == nil:
		return nil
	case apierrors.IsNotFound(err):
		if f, ok := o.files[overlayKey{gvk.GroupKind(), key}]; ok {
			return copyInto(f, obj)
		}
		return notFound
	case apierrors.IsForbidden(err) && gvk.GroupKind() == (schema.GroupKind{Kind: "Secret"}):
		if s, ok := obj.(*corev1.Secret); ok {
			*s = corev1.Secret{}
			s.Namespace, s.Name = key.Namespace, key.Name
			s.Annotations = map[string]string{UnreadableAnnotation: "the plan's role may not read Secrets"}
			return nil
		}
	}
	return err
}

func (o *overlay) list(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
	lo := &client.ListOptions{}
	lo.ApplyOptions(opts)
	if o.isFileOnly(ctx, c, lo.Namespace) {
		return meta.SetList(list, nil)
	}
	return c.List(ctx, list, opts...)
}

// copyInto sets to to a copy of from: of from's type, or the metadata only
// (a PartialObjectMetadata, as a reader of labels asks).
func copyInto(from, to client.Object) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(from)
	if err != nil {
		return err
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u, to)
}
