package forum

import (
	"context"
	"net/http"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// DefaultPollInterval is how often a forum is compared with the spec when its
// backend sets no pollInterval, and always for a deployed forum.
const DefaultPollInterval = 5 * time.Minute

// Keys of a forum's credentials Secret: a ForumBackend's, or a deployed forum's
// admin Secret once the operator stored its token there.
const (
	SecretToken = "token"
	SecretUID   = "uid"
)

// Connector is a forum engine as the controllers reach it: what the
// engine-neutral code reads of a ForumBackend's engine section, a client for a
// forum's API, the planner that maps spaces onto its groups and categories, and,
// for the forums the operator deploys, the two calls it makes before it has a
// token.
type Connector interface {
	// Serves says whether the ForumBackend's engine section is this engine's;
	// Deploys whether this engine runs the forums spec.forum.deploy.engine names.
	Serves(backend *collabv1.ForumBackend) bool
	Deploys(engine collabv1.ForumEngine) bool
	// Site reads the backend's engine section.
	Site(backend *collabv1.ForumBackend) Site
	Connect(ctx context.Context, name, url string, secret *corev1.Secret) (Client, error)
	// Planner is the engine's planner, for its deployed forums and
	// ForumBackends alike.
	Planner() Planner
	// Ping checks, without credentials, that the forum's API at url answers.
	Ping(ctx context.Context, url string, hc *http.Client) error
	// MintToken creates an API token with an administrator's login.
	MintToken(ctx context.Context, login Login) (Token, error)
	// Deployer builds the workloads of the forums the operator deploys.
	Deployer() Deployer
}

// Keys of a deployed forum's admin Secret, which the operator generates and the
// forum's setup reads.
const (
	AdminUsernameKey = "username"
	AdminPasswordKey = "password"
	AdminEmailKey    = "email"
)

// Deployer builds the Kubernetes objects that run an engine's forum in a
// space's namespace (spec.forum.deploy) and names them. It is pure: the space's
// forum phase applies what it builds.
type Deployer interface {
	// Name names the forum's Deployment, Service, NetworkPolicy and Ingress;
	// AdminSecretName its admin Secret; VolumeName its volume.
	Name(space string) string
	AdminSecretName(space string) string
	VolumeName(space string) string
	// ServiceURL is where the operator reaches the forum's API in the cluster;
	// PublicURL where people reach it (status.forum.url).
	ServiceURL(space, namespace string) string
	PublicURL(space *collabv1.CollaborationSpace) string
	Volume(space *collabv1.CollaborationSpace) corev1.PersistentVolumeClaimSpec
	Deployment(space *collabv1.CollaborationSpace, replicas int32) appsv1.DeploymentSpec
	Service(space string) corev1.ServiceSpec
	NetworkPolicy(space *collabv1.CollaborationSpace, operatorNamespace string) networkingv1.NetworkPolicySpec
	// Ingress is nil when the space asks for none.
	Ingress(space *collabv1.CollaborationSpace) *networkingv1.IngressSpec
}

// Site is what the engine-neutral controllers read of a ForumBackend's engine
// section.
type Site struct {
	// Engine names the forum software, for messages.
	Engine string
	URL    string
	// Credentials is the Secret with the operator's token.
	Credentials collabv1.SecretReference
}
