package deploy

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
)

// NodeBB is the forum.Deployer of NodeBB forums: this package's builders.
type NodeBB struct{}

var _ forum.Deployer = NodeBB{}

func (NodeBB) Name(space string) string                  { return Name(space) }
func (NodeBB) AdminSecretName(space string) string       { return AdminSecretName(space) }
func (NodeBB) VolumeName(space string) string            { return VolumeName(space) }
func (NodeBB) ServiceURL(space, namespace string) string { return ServiceURL(space, namespace) }
func (NodeBB) PublicURL(space *collabv1.CollaborationSpace) string {
	return PublicURL(space)
}
func (NodeBB) Volume(space *collabv1.CollaborationSpace) corev1.PersistentVolumeClaimSpec {
	return Volume(space)
}
func (NodeBB) Deployment(space *collabv1.CollaborationSpace, replicas int32) appsv1.DeploymentSpec {
	return Deployment(space, replicas)
}
func (NodeBB) Service(space string) corev1.ServiceSpec { return Service(space) }
func (NodeBB) NetworkPolicy(space *collabv1.CollaborationSpace, operatorNamespace string) networkingv1.NetworkPolicySpec {
	return NetworkPolicy(space, operatorNamespace)
}
func (NodeBB) Ingress(space *collabv1.CollaborationSpace) *networkingv1.IngressSpec {
	return Ingress(space)
}
