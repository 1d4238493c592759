// Package engines is the one place that names the chat and forum engines the
// operator serves. Controllers and collabctl take their connectors from here; a
// backend's engine section picks the engine. Adding a chat engine is a new
// package beside internal/chat/matrix and one line in Chat.
package engines

import (
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	matrixplan "github.com/opencommons/collab-operator/internal/chat/matrix/plan"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
)

// Chat is every chat engine's connector, each given the backends with its
// engine section.
func Chat() chat.Engines {
	return chat.Engines{
		&matrix.Connector{},
	}
}

// ChatPlaceholder is the planner of a ChatBackend a plan does not have: the
// first engine's, with a placeholder server name. The local parts of the aliases
// it plans do not depend on a backend's settings; its full aliases and user ids
// are unknown.
func ChatPlaceholder() chat.Planner {
	return matrixplan.New(matrixplan.Config{ServerName: "server.invalid"})
}

// Forum is every forum engine's connector: a ForumBackend goes to the one whose
// section it has, a deployed forum to the one spec.forum.deploy.engine names.
func Forum() forum.Engines {
	return forum.Engines{
		&nodebb.Connector{},
	}
}

// ForumPlaceholder is the forum planner a check uses where the backend's
// engine is not known (collabctl validate reads files, not ForumBackends).
func ForumPlaceholder() forum.Planner {
	return Forum()[0].Planner()
}
