package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// FallbackPollInterval is how often a space is compared with its chat server
// in full while the backend's stream of changes does not run (at most the
// backend's own pollInterval).
const FallbackPollInterval = 5 * time.Minute

// ErrNoCredentials says a backend's credentials Secret lacks the keys its engine
// needs; the message names the keys, never a value.
var ErrNoCredentials = errors.New("the credentials Secret lacks the keys the engine needs")

// Connector is one chat engine as the controllers reach it: which ChatBackends
// it serves (those with its engine section), what the engine-neutral code reads
// of that section, a client built from it and its credentials, and the planner
// that maps spaces onto the engine's rooms.
type Connector interface {
	// Serves says whether the backend's engine section is this engine's.
	Serves(backend *collabv1.ChatBackend) bool
	// Server reads the backend's engine section.
	Server(backend *collabv1.ChatBackend) Server
	Connect(ctx context.Context, backend *collabv1.ChatBackend, secret *corev1.Secret) (Client, error)
	Planner(backend *collabv1.ChatBackend) (Planner, error)
	// Operator is the operator's user id on the backend's server as a plan that
	// cannot ask the server shows it: from the credentials, else the usual account.
	Operator(backend *collabv1.ChatBackend, secret *corev1.Secret) string
}

// Server is what the engine-neutral controllers read of a ChatBackend's engine
// section.
type Server struct {
	// Name is the server's name: the domain of its user ids and aliases.
	Name string
	// DirectorySpace, when set, is the space that lists the Open spaces.
	DirectorySpace *collabv1.DirectorySpace
	// Credentials is the Secret with the operator's credentials.
	Credentials collabv1.SecretReference
	// Section is the engine section's field path, for messages: "spec.matrix".
	Section string
}

// Engines is the Connector of every engine the operator knows: it hands each
// backend to the engine whose section it has (internal/engines lists them).
type Engines []Connector

// For is the engine of the backend.
func (e Engines) For(backend *collabv1.ChatBackend) (Connector, error) {
	for _, c := range e {
		if c.Serves(backend) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("ChatBackend %s has no engine section this operator serves", backend.Name)
}

// Serves says whether one of the engines serves the backend.
func (e Engines) Serves(backend *collabv1.ChatBackend) bool {
	_, err := e.For(backend)
	return err == nil
}

// Server reads the backend's engine section; zero when no engine serves it.
func (e Engines) Server(backend *collabv1.ChatBackend) Server {
	c, err := e.For(backend)
	if err != nil {
		return Server{}
	}
	return c.Server(backend)
}

// Connect connects to the backend through its engine.
func (e Engines) Connect(ctx context.Context, backend *collabv1.ChatBackend, secret *corev1.Secret) (Client, error) {
	c, err := e.For(backend)
	if err != nil {
		return nil, err
	}
	return c.Connect(ctx, backend, secret)
}

// Planner is the planner of the backend's engine.
func (e Engines) Planner(backend *collabv1.ChatBackend) (Planner, error) {
	c, err := e.For(backend)
	if err != nil {
		return nil, err
	}
	return c.Planner(backend)
}

// Operator is the operator's user id as the backend's engine derives it.
func (e Engines) Operator(backend *collabv1.ChatBackend, secret *corev1.Secret) string {
	c, err := e.For(backend)
	if err != nil {
		return ""
	}
	return c.Operator(backend, secret)
}
