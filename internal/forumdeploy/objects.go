// Package forumdeploy builds the Kubernetes objects that run a department's forum:
// NodeBB with a Redis beside it (or an external database), its volume, Service,
// NetworkPolicy and optional Ingress. It is pure: the controller applies what it
// builds, and tests read it like a manifest.
package forumdeploy

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// Pinned images; spec.forum.deploy.image overrides the forum's.
const (
	DefaultNodeBBImage = "ghcr.io/nodebb/nodebb:4.1.0"
	RedisImage         = "docker.io/library/redis:7.4.1-alpine"
)

const (
	// Port NodeBB listens on.
	Port = 4567
	// DefaultStorage is the volume size when the spec names none.
	DefaultStorage = "5Gi"
	// runAsUser is the unprivileged user both containers run as.
	runAsUser = 1001
	// Keys of the generated admin Secret.
	AdminUsernameKey = "username"
	AdminPasswordKey = "password"
	AdminEmailKey    = "email"
)

// Names of a space's forum objects.
func Name(space string) string            { return space + "-forum" }
func AdminSecretName(space string) string { return space + "-forum-admin" }
func VolumeName(space string) string      { return space + "-forum-data" }

// Labels select the forum's pods.
func Labels(space string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      "nodebb",
		"app.kubernetes.io/instance":  Name(space),
		"app.kubernetes.io/component": "forum",
	}
}

// ServiceURL is how the forum is reached inside the cluster.
func ServiceURL(space, namespace string) string {
	return fmt.Sprintf("http://%s.%s.svc:%d", Name(space), namespace, Port)
}

// PublicURL is the forum's address for people: the Ingress host when there is one.
func PublicURL(space *collabv1.CollaborationSpace) string {
	d := space.Spec.Forum.Deploy
	if d.Ingress == nil {
		return ServiceURL(space.Name, space.Namespace)
	}
	scheme := "http"
	if d.Ingress.TLSSecretName != "" {
		scheme = "https"
	}
	return scheme + "://" + d.Ingress.Host
}

// Volume returns the desired PersistentVolumeClaim: uploads, configuration and the
// Redis data live on it, so archiving a space keeps all of them.
func Volume(space *collabv1.CollaborationSpace) corev1.PersistentVolumeClaimSpec {
	d := space.Spec.Forum.Deploy
	size := d.Storage.Size
	if size.IsZero() {
		size = resource.MustParse(DefaultStorage)
	}
	return corev1.PersistentVolumeClaimSpec{
		AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		StorageClassName: d.Storage.StorageClassName,
		Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
	}
}

// Service returns the desired Service spec.
func Service(space string) corev1.ServiceSpec {
	return corev1.ServiceSpec{
		Selector: Labels(space),
		Ports: []corev1.ServicePort{{
			Name: "http", Port: Port, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP,
		}},
	}
}

// NetworkPolicy admits only what must reach the forum: pods of the space's own
// namespace, the operator (which configures it through its API), and, when the
// forum has an Ingress, ingress controllers from any namespace — on the forum's port
// only. Redis listens on the pod's loopback and is reachable from nowhere else.
func NetworkPolicy(space, operatorNamespace string, ingress bool) networkingv1.NetworkPolicySpec {
	port := intstr.FromInt32(Port)
	tcp := corev1.ProtocolTCP
	peers := []networkingv1.NetworkPolicyPeer{
		{PodSelector: &metav1.LabelSelector{}},
		{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
			"kubernetes.io/metadata.name": operatorNamespace,
		}}},
	}
	if ingress {
		peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}})
	}
	return networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: Labels(space)},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From:  peers,
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}},
		}},
	}
}

// Ingress returns the desired Ingress spec, or nil when the forum has none.
func Ingress(space *collabv1.CollaborationSpace) *networkingv1.IngressSpec {
	in := space.Spec.Forum.Deploy.Ingress
	if in == nil {
		return nil
	}
	pathType := networkingv1.PathTypePrefix
	spec := &networkingv1.IngressSpec{
		IngressClassName: in.ClassName,
		Rules: []networkingv1.IngressRule{{
			Host: in.Host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &pathType,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: Name(space.Name), Port: networkingv1.ServiceBackendPort{Name: "http"},
					}},
				}},
			}},
		}},
	}
	if in.TLSSecretName != "" {
		spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{in.Host}, SecretName: in.TLSSecretName}}
	}
	return spec
}

// podSecurity runs every container unprivileged.
func podSecurity() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		RunAsUser:      ptr.To[int64](runAsUser),
		RunAsGroup:     ptr.To[int64](runAsUser),
		FSGroup:        ptr.To[int64](runAsUser),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func containerSecurity(readOnlyRoot bool) *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(readOnlyRoot),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// Deployment returns the desired Deployment spec. One replica, recreated rather
// than rolled: the volume is ReadWriteOnce and NodeBB's setup must not run twice.
func Deployment(space *collabv1.CollaborationSpace, replicas int32) appsv1.DeploymentSpec {
	labels := Labels(space.Name)
	pod := corev1.PodSpec{
		SecurityContext:              podSecurity(),
		AutomountServiceAccountToken: ptr.To(false),
		InitContainers:               []corev1.Container{setupContainer(space)},
		Containers:                   []corev1.Container{forumContainer(space)},
		Volumes: []corev1.Volume{{
			Name: "data",
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
				ClaimName: VolumeName(space.Name),
			}},
		}},
	}
	if usesRedis(space) {
		pod.Containers = append(pod.Containers, redisContainer())
	}
	return appsv1.DeploymentSpec{
		Replicas: ptr.To(replicas),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: pod},
	}
}

func usesRedis(space *collabv1.CollaborationSpace) bool {
	return space.Spec.Forum.Deploy.Store.Type != collabv1.ForumStoreExternal
}

func image(space *collabv1.CollaborationSpace) string {
	if img := space.Spec.Forum.Deploy.Image; img != "" {
		return img
	}
	return DefaultNodeBBImage
}

var dataMounts = []corev1.VolumeMount{
	{Name: "data", MountPath: "/opt/config", SubPath: "config"},
	{Name: "data", MountPath: "/usr/src/app/public/uploads", SubPath: "uploads"},
}

// setupContainer runs NodeBB's non-interactive setup once: it creates the schema and
// the admin account from the generated Secret, and writes config.json to the volume.
func setupContainer(space *collabv1.CollaborationSpace) corev1.Container {
	return corev1.Container{
		Name:            "setup",
		Image:           image(space),
		Command:         []string{"sh", "-c", "[ -f /opt/config/config.json ] || /usr/src/app/nodebb setup --config=/opt/config/config.json"},
		Env:             forumEnv(space),
		EnvFrom:         storeEnvFrom(space),
		VolumeMounts:    dataMounts,
		SecurityContext: containerSecurity(false),
		Resources:       resources(space),
	}
}

func forumContainer(space *collabv1.CollaborationSpace) corev1.Container {
	return corev1.Container{
		Name:            "nodebb",
		Image:           image(space),
		Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: Port, Protocol: corev1.ProtocolTCP}},
		Env:             forumEnv(space),
		EnvFrom:         storeEnvFrom(space),
		VolumeMounts:    dataMounts,
		SecurityContext: containerSecurity(false),
		Resources:       resources(space),
		// Building assets on the first start takes minutes.
		StartupProbe:   probe(httpGet("/api/config"), 10, 60),
		ReadinessProbe: probe(httpGet("/api/config"), 10, 3),
		LivenessProbe:  probe(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}}, 20, 3),
	}
}

func redisContainer() corev1.Container {
	return corev1.Container{
		Name:  "redis",
		Image: RedisImage,
		// Loopback only: the forum in the same pod is Redis's only client.
		Args:            []string{"--bind", "127.0.0.1", "--appendonly", "yes", "--dir", "/data"},
		VolumeMounts:    []corev1.VolumeMount{{Name: "data", MountPath: "/data", SubPath: "redis"}},
		SecurityContext: containerSecurity(true),
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
		},
		LivenessProbe: probe(corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"redis-cli", "ping"}}}, 20, 3),
	}
}

// probe spells out every field the API server would default, so the Deployment as
// stored compares equal to the one built and a steady state writes nothing.
func probe(handler corev1.ProbeHandler, period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: handler, PeriodSeconds: period, FailureThreshold: failures,
		TimeoutSeconds: 1, SuccessThreshold: 1,
	}
}

func httpGet(path string) corev1.ProbeHandler {
	return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
		Path: path, Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP,
	}}
}

// forumEnv configures NodeBB through the environment its setup reads.
func forumEnv(space *collabv1.CollaborationSpace) []corev1.EnvVar {
	secret := AdminSecretName(space.Name)
	env := []corev1.EnvVar{
		{Name: "NODEBB_URL", Value: PublicURL(space)},
		{Name: "NODEBB_PORT", Value: fmt.Sprint(Port)},
		fromSecret("NODEBB_ADMIN_USERNAME", secret, AdminUsernameKey),
		fromSecret("NODEBB_ADMIN_PASSWORD", secret, AdminPasswordKey),
		fromSecret("NODEBB_ADMIN_EMAIL", secret, AdminEmailKey),
	}
	if usesRedis(space) {
		env = append(env,
			corev1.EnvVar{Name: "NODEBB_DB", Value: "redis"},
			corev1.EnvVar{Name: "NODEBB_DB_HOST", Value: "127.0.0.1"},
			corev1.EnvVar{Name: "NODEBB_DB_PORT", Value: "6379"},
		)
	}
	return env
}

// storeEnvFrom passes an external database's settings (NODEBB_DB, NODEBB_DB_HOST, …)
// from the user's Secret.
func storeEnvFrom(space *collabv1.CollaborationSpace) []corev1.EnvFromSource {
	store := space.Spec.Forum.Deploy.Store
	if store.Type != collabv1.ForumStoreExternal || store.SecretRef == nil {
		return nil
	}
	return []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: store.SecretRef.Name},
	}}}
}

func fromSecret(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key,
	}}}
}

// resources are the spec's, or requests that fit NodeBB's build on first start.
func resources(space *collabv1.CollaborationSpace) corev1.ResourceRequirements {
	out := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
	}
	r := space.Spec.Forum.Deploy.Resources
	if r == nil {
		return out
	}
	for k, v := range r.Requests {
		out.Requests[corev1.ResourceName(k)] = v
	}
	for k, v := range r.Limits {
		out.Limits[corev1.ResourceName(k)] = v
	}
	return out
}
