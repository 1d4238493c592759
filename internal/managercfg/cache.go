// Package managercfg is how the manager reaches the API server and what it
// caches: the cache's transform and the objects it holds (cache.go), the shards
// a manager owns by label (shard.go), and the dialer that finds the API server
// again after it went away (reconnect.go). main.go, the test suites and the
// benchmarks build their managers with it.
package managercfg

import (
	"context"
	"errors"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/rbacstore"
	"github.com/opencommons/collab-operator/internal/spacepass/rbacphase"
)

// ManagerOptions returns opts with the cache and client options the manager must run
// with (CacheOptions, ClientOptions): its cache keeps the operator's Roles and
// RoleBindings as records of their fingerprints (rbacstore.NewCache) and every other
// object trimmed (rbacphase.TrimForCache). main.go and the test suites that start the
// manager share it, so they cache what the operator caches and nothing more.
func ManagerOptions(opts ctrl.Options) ctrl.Options {
	opts.Cache.ByObject = CacheOptions().ByObject
	opts.Cache.DefaultTransform = rbacphase.TrimForCache
	opts.NewCache = rbacstore.NewCache
	opts.Cache.DefaultWatchErrorHandler = logWatchError
	opts.Client.Cache = ClientOptions().Cache
	return opts
}

// logWatchError says, at the default level, when the cache loses a watch with an
// error, which client-go otherwise logs only through klog. How quickly watches come
// back after the API server restarts is ReconnectingConfig's concern.
func logWatchError(ctx context.Context, r *toolscache.Reflector, err error) {
	if errors.Is(err, io.EOF) {
		return // a watch closed normally
	}
	ctrl.Log.WithName("cache").Info("Lost a watch of the API server; reconnecting with backoff",
		"reflector", r.TypeDescription(), "error", err.Error())
	toolscache.DefaultWatchErrorHandler(ctx, r, err)
}

// CacheOptions keep only the operator's own objects of the kinds a space owns in the
// manager's memory, not every Deployment in the cluster. Secrets are not among
// them: they are never cached (ClientOptions).
func CacheOptions() cache.Options {
	owned := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{collabv1.ManagedByLabel: collabv1.ManagedByValue})}
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&rbacv1.Role{}:                  owned,
		&rbacv1.RoleBinding{}:           owned,
		&appsv1.Deployment{}:            owned,
		&corev1.Service{}:               owned,
		&corev1.PersistentVolumeClaim{}: owned,
		&networkingv1.NetworkPolicy{}:   owned,
		&networkingv1.Ingress{}:         owned,
	}}
}

// ClientOptions make the manager's client read and write Secrets straight through
// the API server. The operator only ever gets Secrets by name (a backend's
// credentials, a forum's admin Secret), so it needs neither list nor watch on
// Secrets, and its memory does not grow with the Secrets anyone else creates: a
// label filter would not do, since anyone may label their Secrets as the operator's.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}
