// Package deploy builds the Kubernetes objects that run a department's forum:
// NodeBB with a Redis beside it (or an external database), its volume, Service,
// NetworkPolicy and optional Ingress. It is pure: the controller applies what it
// builds, and tests read it like a manifest.
package deploy

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
	"github.com/opencommons/collab-operator/internal/forum"
)

// Pinned images; spec.forum.deploy.image overrides the forum's. NodeBBVersion is
// the version the forum contract suite and the deployed-pod test ran against
// (docs/forum-contract.md).
const (
	NodeBBVersion      = "4.15.1"
	DefaultNodeBBImage = "ghcr.io/nodebb/nodebb:" + NodeBBVersion
	RedisImage         = "docker.io/library/redis:7.4.1-alpine"
)

// Paths inside the NodeBB image (its Dockerfile: WORKDIR /usr/src/app) and the
// volume's mount points.
const (
	AppDir     = "/usr/src/app"
	ConfigDir  = "/opt/config"
	ConfigFile = ConfigDir + "/config.json"
	BuildDir   = AppDir + "/build"
	UploadsDir = AppDir + "/public/uploads"
	RedisDir   = "/data"
	// BuildStampFile records which package.json the assets in BuildDir were built
	// for; the setup container rebuilds when the image brings another.
	BuildStampFile = BuildDir + "/collab-build-stamp"
	// RedisPort is Redis's port on the pod's loopback.
	RedisPort = 6379
	// ReadinessPath is a page NodeBB renders from its built templates: it answers
	// 500 when the assets are missing, while /api/config still answers 200.
	ReadinessPath = "/login"
)

const (
	// Port NodeBB listens on.
	Port = 4567
	// DefaultStorage is the volume size when the spec names none.
	DefaultStorage = "5Gi"
	// runAsUser is the unprivileged user both containers run as.
	runAsUser = 1001
	// Keys of the generated admin Secret.
	AdminUsernameKey = forum.AdminUsernameKey
	AdminPasswordKey = forum.AdminPasswordKey
	AdminEmailKey    = forum.AdminEmailKey
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
//
// Egress is what a running NodeBB uses: DNS; HTTP and HTTPS (ActivityPub
// federation, link previews, web push); mail submission (25, 465, 587); and,
// for an external store, the database wherever it is (its address is in the
// user's Secret, which the operator does not read). The pod never installs
// packages, so it needs no package registry; HTTPS to anywhere allows one, and a
// cluster that blocks the internet loses only federation, previews and mail.
func NetworkPolicy(space *collabv1.CollaborationSpace, operatorNamespace string) networkingv1.NetworkPolicySpec {
	port := intstr.FromInt32(Port)
	tcp := corev1.ProtocolTCP
	peers := []networkingv1.NetworkPolicyPeer{
		{PodSelector: &metav1.LabelSelector{}},
		{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
			"kubernetes.io/metadata.name": operatorNamespace,
		}}},
	}
	if space.Spec.Forum.Deploy.Ingress != nil {
		peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}})
	}
	return networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: Labels(space.Name)},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From:  peers,
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}},
		}},
		Egress: Egress(!usesRedis(space)),
	}
}

// Egress are the forum's egress rules (see NetworkPolicy).
func Egress(externalStore bool) []networkingv1.NetworkPolicyEgressRule {
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	ports := func(proto *corev1.Protocol, nums ...int32) []networkingv1.NetworkPolicyPort {
		var out []networkingv1.NetworkPolicyPort
		for _, n := range nums {
			p := intstr.FromInt32(n)
			out = append(out, networkingv1.NetworkPolicyPort{Protocol: proto, Port: &p})
		}
		return out
	}
	rules := []networkingv1.NetworkPolicyEgressRule{
		{Ports: append(ports(&udp, 53), ports(&tcp, 53)...)},
		{Ports: ports(&tcp, 80, 443, 25, 465, 587)},
	}
	if externalStore {
		rules = append(rules, networkingv1.NetworkPolicyEgressRule{})
	}
	return rules
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
//
// The pod starts in order: Redis as a native sidecar (an init container that
// keeps running), whose startup probe holds the next step until it answers;
// then the setup container, which installs NodeBB on first start and builds its
// assets onto the volume whenever the image brings another package.json; then
// NodeBB itself, which only starts. Nothing runs npm, so the pod needs no
// package registry.
func Deployment(space *collabv1.CollaborationSpace, replicas int32) appsv1.DeploymentSpec {
	labels := Labels(space.Name)
	var inits []corev1.Container
	if usesRedis(space) {
		inits = append(inits, redisContainer())
	}
	pod := corev1.PodSpec{
		SecurityContext:              podSecurity(),
		AutomountServiceAccountToken: ptr.To(false),
		InitContainers:               append(inits, setupContainer(space)),
		Containers:                   []corev1.Container{forumContainer(space)},
		Volumes: []corev1.Volume{{
			Name: "data",
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
				ClaimName: VolumeName(space.Name),
			}},
		}},
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

// dataMounts put NodeBB's configuration, its built assets and the uploads on the
// volume, so a new pod (a restart, a new image) finds them.
var dataMounts = []corev1.VolumeMount{
	{Name: "data", MountPath: ConfigDir, SubPath: "config"},
	{Name: "data", MountPath: BuildDir, SubPath: "build"},
	{Name: "data", MountPath: UploadsDir, SubPath: "uploads"},
}

// SetupScript runs in the setup container. On the first start it installs NodeBB
// (schema and admin account, from the environment) and writes config.json onto
// the volume; then it builds the assets onto the volume, with the data store's
// upgrade scripts, whenever the image's package.json is not the one they were
// built for — a new image, or a volume that never finished a build. A failure
// stops the pod before NodeBB starts, and the next start tries again.
const SetupScript = `set -eu
cd ` + AppDir + `
if [ ! -f ` + ConfigFile + ` ]; then
  ./nodebb setup --skip-build --config=` + ConfigFile + `
fi
want="$(md5sum package.json | cut -c1-32)"
if [ "$(cat ` + BuildStampFile + ` 2>/dev/null || true)" != "$want" ]; then
  ./nodebb upgrade --schema --build --config=` + ConfigFile + `
  echo "$want" > ` + BuildStampFile + `
fi
`

func setupContainer(space *collabv1.CollaborationSpace) corev1.Container {
	return corev1.Container{
		Name:            "setup",
		Image:           image(space),
		Command:         []string{"sh", "-c", SetupScript},
		WorkingDir:      AppDir,
		Env:             forumEnv(space),
		EnvFrom:         storeEnvFrom(space),
		VolumeMounts:    dataMounts,
		SecurityContext: containerSecurity(false),
		Resources:       resources(space, buildMemory),
	}
}

// forumContainer runs NodeBB's loader in the foreground, without the image's
// entrypoint (which runs npm install at every start and builds on its own terms).
func forumContainer(space *collabv1.CollaborationSpace) corev1.Container {
	return corev1.Container{
		Name:            "nodebb",
		Image:           image(space),
		Command:         []string{"node", "loader.js", "--config=" + ConfigFile, "--no-daemon", "--no-silent"},
		WorkingDir:      AppDir,
		Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: Port, Protocol: corev1.ProtocolTCP}},
		Env:             forumEnv(space),
		EnvFrom:         storeEnvFrom(space),
		VolumeMounts:    dataMounts,
		SecurityContext: containerSecurity(false),
		Resources:       resources(space, runMemory),
		// Readiness asks for a page rendered from the built templates, so a forum
		// whose assets are missing is not Ready although its API answers.
		StartupProbe:   probe(httpGet(ReadinessPath), 5, 60),
		ReadinessProbe: probe(httpGet(ReadinessPath), 10, 3),
		LivenessProbe:  probe(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}}, 20, 3),
	}
}

// redisContainer is Redis as a native sidecar: an init container that keeps
// running, started before setup and stopped after NodeBB.
func redisContainer() corev1.Container {
	ping := corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"redis-cli", "-p", fmt.Sprint(RedisPort), "ping"}}}
	return corev1.Container{
		Name:          "redis",
		Image:         RedisImage,
		RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
		Command:       []string{"redis-server"},
		// Loopback only: the forum in the same pod is Redis's only client.
		Args: []string{"--bind", "127.0.0.1", "--port", fmt.Sprint(RedisPort),
			"--appendonly", "yes", "--dir", RedisDir},
		VolumeMounts:    []corev1.VolumeMount{{Name: "data", MountPath: RedisDir, SubPath: "redis"}},
		SecurityContext: containerSecurity(true),
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
		},
		// The setup container starts only once this passes.
		StartupProbe:  probe(ping, 1, 60),
		LivenessProbe: probe(ping, 20, 3),
	}
}

// probe spells out every field the API server would default, so the Deployment as
// stored compares equal to the one built and a steady state writes nothing.
func probe(handler corev1.ProbeHandler, period, failures int32) *corev1.Probe {
	timeout := int32(1)
	if handler.HTTPGet != nil {
		timeout = 5 // a page is rendered
	}
	return &corev1.Probe{
		ProbeHandler: handler, PeriodSeconds: period, FailureThreshold: failures,
		TimeoutSeconds: timeout, SuccessThreshold: 1,
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
		// NodeBB's loader reads its configuration's path from CONFIG, not from
		// --config; without it the forum starts its web installer.
		{Name: "CONFIG", Value: ConfigFile},
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

// Memory of the NodeBB containers. Building the assets (the setup container)
// peaked at about 730 MiB on NodeBB 4.15.1; running the forum takes less.
var (
	buildMemory = memory{request: resource.MustParse("768Mi"), limit: resource.MustParse("2Gi")}
	runMemory   = memory{request: resource.MustParse("512Mi"), limit: resource.MustParse("1Gi")}
)

type memory struct{ request, limit resource.Quantity }

// resources are the spec's where it says, otherwise requests and limits that
// fit what the container does.
func resources(space *collabv1.CollaborationSpace, mem memory) corev1.ResourceRequirements {
	out := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: mem.request},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: mem.limit},
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
