package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CacheOptions keep only the operator's own objects of the kinds a space owns in the
// manager's memory, not every Secret or Deployment in the cluster.
func CacheOptions() cache.Options {
	owned := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{ManagedByLabel: ManagedByValue})}
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&rbacv1.Role{}:                  owned,
		&rbacv1.RoleBinding{}:           owned,
		&appsv1.Deployment{}:            owned,
		&corev1.Service{}:               owned,
		&corev1.PersistentVolumeClaim{}: owned,
		&corev1.Secret{}:                owned,
		&networkingv1.NetworkPolicy{}:   owned,
		&networkingv1.Ingress{}:         owned,
	}}
}
