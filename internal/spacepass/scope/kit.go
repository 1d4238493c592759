package scope

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/forum"
)

// Kit is what every phase of a pass works with: the API server, the events the
// pass announces, where backends' credentials are read, and the deployed
// forum's names (the owned objects a space may have).
type Kit struct {
	client.Client
	Scheme *runtime.Scheme
	// APIReader reads what must not be cached (Secrets) and what the cache may
	// lag on; never nil.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// Changes are the changes the passes in flight made, announced once per
	// pass (AnnounceChanges).
	Changes *PassChanges
	// CredentialsNamespace is the one namespace backends' credentials Secrets
	// are read from; OperatorNamespace is the operator's own.
	CredentialsNamespace, OperatorNamespace string
	// Forums are the forum engines: whose deployed forum a space has decides
	// the names of the objects it owns (DeployerOf).
	Forums forum.Engines
}

// ForumEngine is the engine of the space's deployed forum
// (forum.Engines.ForDeploy); the first engine when the space names one this
// operator cannot deploy (the forum phase reports that).
func (k *Kit) ForumEngine(space *collabv1.CollaborationSpace) forum.Connector {
	c, err := k.Forums.ForDeploy(space)
	if err != nil {
		return k.Forums[0]
	}
	return c
}

// DeployerOf names and builds the workloads of the space's deployed forum.
func (k *Kit) DeployerOf(space *collabv1.CollaborationSpace) forum.Deployer {
	return k.ForumEngine(space).Deployer()
}

// Credentials reads backends' Secrets from the credentials namespace only.
func (k *Kit) Credentials() connect.Credentials {
	return connect.NewCredentials(k.APIReader, k.Client, k.CredentialsNamespace)
}
