package forum

import (
	"fmt"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// Engines is the Connector of every forum engine the operator knows
// (internal/engines lists them): a ForumBackend goes to the engine whose
// section it has, a deployed forum to the engine spec.forum.deploy.engine names.
type Engines []Connector

// ForBackend is the engine of the ForumBackend.
func (e Engines) ForBackend(backend *collabv1.ForumBackend) (Connector, error) {
	for _, c := range e {
		if c.Serves(backend) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("ForumBackend %s has no engine section this operator serves", backend.Name)
}

// ForDeploy is the engine of a space's deployed forum: the one
// spec.forum.deploy.engine names, else the one status.forum.engine recorded
// while it ran (so a forum the spec no longer lists is found under its own
// engine's names), else the first engine.
func (e Engines) ForDeploy(space *collabv1.CollaborationSpace) (Connector, error) {
	if len(e) == 0 {
		return nil, fmt.Errorf("this operator knows no forum engine")
	}
	engine := DeployedEngine(space)
	if engine == "" {
		return e[0], nil
	}
	for _, c := range e {
		if c.Deploys(engine) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("spec.forum.deploy.engine: this operator cannot deploy %q", engine)
}

// DeployedEngine is the engine the space deploys its forum with, or last did:
// "" when neither its spec nor its status names one.
func DeployedEngine(space *collabv1.CollaborationSpace) collabv1.ForumEngine {
	if f := space.Spec.Forum; f != nil && f.Deploy != nil && f.Deploy.Engine != "" {
		return f.Deploy.Engine
	}
	if st := space.Status.Forum; st != nil {
		return st.Engine
	}
	return ""
}
