package scope

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
	// Deployer names and builds the deployed forum's workloads.
	Deployer forum.Deployer
}

func (k *Kit) Credentials() connect.Credentials {
	return connect.NewCredentials(k.APIReader, k.Client, k.CredentialsNamespace)
}
