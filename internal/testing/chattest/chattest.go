// Package chattest holds the backends, Secrets and fake chat connections the
// unit tests of the controllers and of the space's pass share: a ChatBackend
// "chat" on server "x" whose credentials live in "collab-system", a connector
// that hands out a given fake client, and a recorder drain.
//
// Like everything under internal/testing it is test tooling: no production
// package imports it (internal/engines checks).
package chattest

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	chatfake "github.com/opencommons/collab-operator/internal/chat/fake"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/engines"
)

// CredentialsNamespace is where Secret's Secrets live, as the operator is told.
const CredentialsNamespace = "collab-system"

// Backend is ChatBackend "chat": Matrix on server "x", the operator @op:x, its
// credentials in Secret chat-creds.
func Backend() *collabv1.ChatBackend {
	return &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: "chat"},
		Spec: collabv1.ChatBackendSpec{Matrix: &collabv1.MatrixBackend{HomeserverURL: "http://127.0.0.1:1", ServerName: "x",
			CredentialsSecretRef: collabv1.SecretReference{Name: "chat-creds"}}},
		Status: collabv1.ChatBackendStatus{UserID: "@op:x"},
	}
}

// ForumBackend is ForumBackend "forum": NodeBB, its token in Secret forum-creds.
func ForumBackend() *collabv1.ForumBackend {
	return &collabv1.ForumBackend{
		ObjectMeta: metav1.ObjectMeta{Name: "forum"},
		Spec: collabv1.ForumBackendSpec{NodeBB: &collabv1.NodeBBBackend{URL: "http://127.0.0.1:1",
			CredentialsSecretRef: collabv1.SecretReference{Name: "forum-creds"}}},
	}
}

// Secret is a credentials Secret holding key.
func Secret(name, key string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: CredentialsNamespace},
		Data: map[string][]byte{key: []byte("t")}}
}

// Connector is the Matrix engine with its client replaced by C.
type Connector struct {
	C chat.Client
	matrix.Connector
}

// Connect hands out C.
func (f *Connector) Connect(context.Context, *collabv1.ChatBackend, *corev1.Secret) (chat.Client, error) {
	return f.C, nil
}

// Listing is a fake chat client that also lists the operator's rooms.
type Listing struct {
	chatfake.Client
	Joined []string
}

// JoinedRooms lists Joined.
func (l *Listing) JoinedRooms(context.Context) ([]string, error) { return l.Joined, nil }

// Conn is a connection to the backend through c, its engine section read as the
// controllers read it.
func Conn(backend *collabv1.ChatBackend, c chat.Client) *connect.ChatConnection {
	return &connect.ChatConnection{Backend: backend, Server: engines.Chat().Server(backend), Client: c}
}

// Drain returns the events a fake recorder holds.
func Drain(r *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}
