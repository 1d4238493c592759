// Package connect reaches a backend: it reads the backend, reads its credentials
// Secret straight from the API server and only from the one credentials
// namespace, and hands back a client and planner from the backend's engine
// connector. The controllers, the dry run and collabctl all connect through it.
package connect

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Credentials reads backends' Credentials Secrets: straight from the API server,
// never through a cache, and from one namespace only (--Credentials-namespace, the
// operator's own by default). Backends are cluster-scoped, so whoever may create one
// could otherwise make the operator read, and send to a server of their choosing,
// any Secret in the cluster.
type Credentials struct {
	reader    client.Reader
	namespace string
}

// NewCredentials returns the credentials reader of a reconciler: reader when set,
// else c (whose client never caches Secrets, see ClientOptions).
func NewCredentials(reader, c client.Reader, namespace string) Credentials {
	if reader == nil {
		reader = c
	}
	return Credentials{reader: reader, namespace: namespace}
}

// Secret returns the Secret a backend's credentialsSecretRef names; backend names the
// backend for messages ("ChatBackend matrix"). A reference into any other namespace
// than the credentials namespace is refused before anything is read. No message
// carries a value of the Secret.
func (c Credentials) Secret(ctx context.Context, backend string, ref collabv1.SecretReference) (*corev1.Secret, error) {
	ns := ref.Namespace
	if ns == "" {
		ns = c.namespace
	}
	if c.namespace == "" || ns != c.namespace {
		return nil, &credentialsNamespaceError{backend: backend, namespace: ns, allowed: c.namespace}
	}
	secret := &corev1.Secret{}
	if err := c.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, secret); err != nil {
		return nil, fmt.Errorf("cannot get credentials Secret %s/%s: %w", ns, ref.Name, err)
	}
	return secret, nil
}

// credentialsNamespaceError says a backend's credentialsSecretRef points outside the
// credentials namespace.
type credentialsNamespaceError struct {
	backend, namespace, allowed string
}

func (e *credentialsNamespaceError) Error() string {
	if e.allowed == "" {
		return fmt.Sprintf("%s: the operator was started without a credentials namespace (--credentials-namespace), "+
			"so it reads no credentials", e.backend)
	}
	return fmt.Sprintf("%s: credentialsSecretRef names namespace %s, but the operator reads credentials only from "+
		"namespace %s; move the Secret there and leave credentialsSecretRef.namespace out", e.backend, e.namespace, e.allowed)
}

// IsNamespaceForbidden reports whether err is a refused credentialsSecretRef.
func IsNamespaceForbidden(err error) bool {
	var e *credentialsNamespaceError
	return errors.As(err, &e)
}
