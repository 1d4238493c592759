package rbacstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// kinds are the kinds a Cache keeps in Stores, by the API resource their
// reflectors list and watch.
var kinds = map[string]Kind{
	"roles": {Name: "Role", New: func() client.Object { return &rbacv1.Role{} },
		NewList: func() client.ObjectList { return &rbacv1.RoleList{} }},
	"rolebindings": {Name: "RoleBinding", New: func() client.Object { return &rbacv1.RoleBinding{} },
		NewList: func() client.ObjectList { return &rbacv1.RoleBindingList{} }},
}

// Cache is the manager's cache with Roles and RoleBindings kept in Stores:
// reads, watches and syncing of those two kinds go to the Stores, everything
// else to the cache it wraps.
type Cache struct {
	cache.Cache
	byType map[reflect.Type]*kindStore
	byGVK  map[schema.GroupVersionKind]*kindStore
	stores []*kindStore
}

type kindStore struct {
	*Store
	gvk       schema.GroupVersionKind
	reflector *toolscache.Reflector
}

// NewCache is a cache.NewCacheFunc: the cache of cache.New, with Roles and
// RoleBindings kept by label selector as opts.ByObject gives it for them
// (the operator's label, and a shard's), in Stores.
func NewCache(config *rest.Config, opts cache.Options) (cache.Cache, error) {
	if len(opts.DefaultNamespaces) > 0 {
		return nil, errors.New("rbacstore: a cache restricted to namespaces is not supported")
	}
	selectors := map[reflect.Type]labels.Selector{}
	inner := opts
	inner.ByObject = map[client.Object]cache.ByObject{}
	for obj, by := range opts.ByObject {
		switch obj.(type) {
		case *rbacv1.Role, *rbacv1.RoleBinding:
			if len(by.Namespaces) > 0 {
				return nil, fmt.Errorf("rbacstore: a %T cache restricted to namespaces is not supported", obj)
			}
			selectors[reflect.TypeOf(obj)] = by.Label
		default:
			inner.ByObject[obj] = by
		}
	}
	wrapped, err := cache.New(config, inner)
	if err != nil {
		return nil, err
	}
	c := &Cache{Cache: wrapped, byType: map[reflect.Type]*kindStore{}, byGVK: map[schema.GroupVersionKind]*kindStore{}}
	httpClient := opts.HTTPClient
	if httpClient == nil {
		if httpClient, err = rest.HTTPClientFor(config); err != nil {
			return nil, err
		}
	}
	for resource, kind := range kinds {
		sel := selectors[reflect.TypeOf(kind.New())]
		if sel == nil {
			sel = opts.DefaultLabelSelector
		}
		ks, err := newKindStore(config, httpClient, opts.Scheme, resource, kind, sel)
		if err != nil {
			return nil, err
		}
		c.stores = append(c.stores, ks)
		c.byType[reflect.TypeOf(kind.New())] = ks
		c.byType[reflect.TypeOf(kind.NewList())] = ks
		c.byGVK[ks.gvk] = ks
	}
	return c, nil
}

// newKindStore makes the Store of a kind and the reflector that fills it.
func newKindStore(config *rest.Config, httpClient *http.Client, scheme *runtime.Scheme, resource string, kind Kind,
	sel labels.Selector) (*kindStore, error) {
	gvk := rbacv1.SchemeGroupVersion.WithKind(kind.Name)
	restClient, err := apiutil.RESTClientForGVK(gvk, false, false, config, serializer.NewCodecFactory(scheme), httpClient)
	if err != nil {
		return nil, fmt.Errorf("rbacstore: cannot reach %s: %w", resource, err)
	}
	lw := toolscache.NewFilteredListWatchFromClient(restClient, resource, metav1.NamespaceAll, func(o *metav1.ListOptions) {
		if sel != nil {
			o.LabelSelector = sel.String()
		}
	})
	store := NewStore(kind)
	trimPages(lw, store.Transformer())
	reflector := toolscache.NewReflectorWithOptions(lw, kind.New(), store, toolscache.ReflectorOptions{
		Name: "rbacstore " + kind.Name, TypeDescription: gvk.String()})
	return &kindStore{Store: store, gvk: gvk, reflector: reflector}, nil
}

// trimPages trims each page of a list as it arrives, when the reflector lists
// in pages (an API server without watch-list): the reflector holds every page
// until the last, and would hold every object whole.
func trimPages(lw *toolscache.ListWatch, trim toolscache.TransformFunc) {
	trimmed := func(l runtime.Object, err error) (runtime.Object, error) {
		if err != nil {
			return l, err
		}
		return l, meta.EachListItem(l, func(o runtime.Object) error { _, err := trim(o); return err })
	}
	// The reflector lists with a context alone.
	listWithContext := lw.ListWithContextFunc
	lw.ListWithContextFunc = func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return trimmed(listWithContext(ctx, opts))
	}
}

// Start runs the Stores' reflectors and the wrapped cache until ctx ends.
func (c *Cache) Start(ctx context.Context) error {
	for _, ks := range c.stores {
		go func() {
			ks.reflector.RunWithContext(ctx)
			ks.stop()
		}()
	}
	return c.Cache.Start(ctx)
}

// WaitForCacheSync waits for the wrapped cache and the Stores' first lists.
// Every controller's source asks, so it waits without a word (client-go's
// WaitFor logs two lines a call).
func (c *Cache) WaitForCacheSync(ctx context.Context) bool {
	if !c.Cache.WaitForCacheSync(ctx) {
		return false
	}
	for _, ks := range c.stores {
		select {
		case <-ks.HasSyncedChecker().Done():
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// Get reads obj from its Store, or from the wrapped cache.
func (c *Cache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	ks, ok := c.byType[reflect.TypeOf(obj)]
	if !ok {
		return c.Cache.Get(ctx, key, obj, opts...)
	}
	found, ok := ks.get(key.Namespace, key.Name)
	if !ok {
		return apierrors.NewNotFound(rbacv1.Resource(ks.kind.Name), key.Name)
	}
	reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(found).Elem())
	obj.GetObjectKind().SetGroupVersionKind(ks.gvk)
	return nil
}

// List lists from list's Store by namespace, or from the wrapped cache. A
// Store keeps no labels or fields to select by.
func (c *Cache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	ks, ok := c.byType[reflect.TypeOf(list)]
	if !ok {
		return c.Cache.List(ctx, list, opts...)
	}
	lo := (&client.ListOptions{}).ApplyOptions(opts)
	if (lo.LabelSelector != nil && !lo.LabelSelector.Empty()) || (lo.FieldSelector != nil && !lo.FieldSelector.Empty()) {
		return fmt.Errorf("rbacstore: the cache lists %ss by namespace only", ks.kind.Name)
	}
	found := ks.list(lo.Namespace)
	items := make([]runtime.Object, len(found))
	for i, o := range found {
		o.GetObjectKind().SetGroupVersionKind(ks.gvk)
		items[i] = o
	}
	return meta.SetList(list, items)
}

// GetInformer returns obj's Store as its informer, or the wrapped cache's.
func (c *Cache) GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	if ks, ok := c.byType[reflect.TypeOf(obj)]; ok {
		return ks.Store, nil
	}
	return c.Cache.GetInformer(ctx, obj, opts...)
}

// GetInformerForKind returns gvk's Store as its informer, or the wrapped cache's.
func (c *Cache) GetInformerForKind(ctx context.Context, gvk schema.GroupVersionKind,
	opts ...cache.InformerGetOption) (cache.Informer, error) {
	if ks, ok := c.byGVK[gvk]; ok {
		return ks.Store, nil
	}
	return c.Cache.GetInformerForKind(ctx, gvk, opts...)
}

// RemoveInformer refuses for a Store's kind: its reflector runs with the cache.
func (c *Cache) RemoveInformer(ctx context.Context, obj client.Object) error {
	if ks, ok := c.byType[reflect.TypeOf(obj)]; ok {
		return fmt.Errorf("rbacstore: the %s store runs as long as the cache", ks.kind.Name)
	}
	return c.Cache.RemoveInformer(ctx, obj)
}

// IndexField refuses for a Store's kind: it keeps no objects to index.
func (c *Cache) IndexField(ctx context.Context, obj client.Object, field string, extract client.IndexerFunc) error {
	if ks, ok := c.byType[reflect.TypeOf(obj)]; ok {
		return ks.AddIndexers(nil)
	}
	return c.Cache.IndexField(ctx, obj, field, extract)
}
