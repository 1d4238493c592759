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

// ForDeploy is the engine a space's deployed forum runs: the one
// spec.forum.deploy.engine names, the first engine when the space deploys none
// (what it deployed before, if anything, is found under that engine's names).
func (e Engines) ForDeploy(space *collabv1.CollaborationSpace) (Connector, error) {
	if len(e) == 0 {
		return nil, fmt.Errorf("this operator knows no forum engine")
	}
	f := space.Spec.Forum
	if f == nil || f.Deploy == nil || f.Deploy.Engine == "" {
		return e[0], nil
	}
	for _, c := range e {
		if c.Deploys(f.Deploy.Engine) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("spec.forum.deploy.engine: this operator cannot deploy %q", f.Deploy.Engine)
}
