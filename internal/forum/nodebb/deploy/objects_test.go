package deploy

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

func space(deploy collabv1.ForumDeploy) *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "eng", Namespace: "dept-eng"},
		Spec:       collabv1.CollaborationSpaceSpec{Forum: &collabv1.ForumSpec{Deploy: &deploy}},
	}
}

func TestPublicURL(t *testing.T) {
	tests := map[string]struct {
		deploy collabv1.ForumDeploy
		want   string
	}{
		"no ingress: the Service": {want: "http://eng-forum.dept-eng.svc:4567"},
		"ingress without TLS":     {deploy: collabv1.ForumDeploy{Ingress: &collabv1.ForumIngress{Host: "f.example.org"}}, want: "http://f.example.org"},
		"ingress with TLS": {
			deploy: collabv1.ForumDeploy{Ingress: &collabv1.ForumIngress{Host: "f.example.org", TLSSecretName: "tls"}},
			want:   "https://f.example.org",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := PublicURL(space(tc.deploy)); got != tc.want {
				t.Errorf("PublicURL() = %s, want %s", got, tc.want)
			}
		})
	}
}

func names(cs []corev1.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestDeploymentStore(t *testing.T) {
	tests := map[string]struct {
		store       collabv1.ForumStore
		wantInits   []string
		wantEnvFrom bool
	}{
		"Redis by default, a sidecar started before setup": {wantInits: []string{"redis", "setup"}},
		"an external database from a Secret": {
			store:       collabv1.ForumStore{Type: collabv1.ForumStoreExternal, SecretRef: &collabv1.LocalObjectReference{Name: "db"}},
			wantInits:   []string{"setup"},
			wantEnvFrom: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := Deployment(space(collabv1.ForumDeploy{Store: tc.store}), 1).Template.Spec
			if diff := cmp.Diff(tc.wantInits, names(pod.InitContainers)); diff != "" {
				t.Errorf("init containers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"nodebb"}, names(pod.Containers)); diff != "" {
				t.Errorf("containers (-want +got):\n%s", diff)
			}
			if got := len(pod.Containers[0].EnvFrom) > 0; got != tc.wantEnvFrom {
				t.Errorf("envFrom set = %v, want %v", got, tc.wantEnvFrom)
			}
		})
	}
}

// TestRedisRunsBeforeSetup: NodeBB's setup aborts when its database does not
// answer, so Redis must be up before the setup container starts: a native
// sidecar (an init container that keeps running) whose startup probe the
// kubelet waits for.
func TestRedisRunsBeforeSetup(t *testing.T) {
	pod := Deployment(space(collabv1.ForumDeploy{}), 1).Template.Spec
	redis := pod.InitContainers[0]
	if redis.Name != "redis" || redis.RestartPolicy == nil || *redis.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Fatalf("first init container %s (restartPolicy %v), want redis as a sidecar (Always)", redis.Name, redis.RestartPolicy)
	}
	if redis.StartupProbe == nil || redis.StartupProbe.Exec == nil {
		t.Errorf("redis has no startup probe: setup would start before Redis answers")
	}
	if env := envOf(pod.InitContainers[1]); env["NODEBB_DB_HOST"] != "127.0.0.1" || env["NODEBB_DB_PORT"] != "6379" {
		t.Errorf("setup reaches Redis at %s:%s, want 127.0.0.1:6379", env["NODEBB_DB_HOST"], env["NODEBB_DB_PORT"])
	}
}

func envOf(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		out[e.Name] = e.Value
	}
	return out
}

// TestBuiltAssetsLiveOnTheVolume: what setup writes (configuration, built
// assets) must be on the volume, where the forum container and the next pod find
// it, not in the setup container's own filesystem.
func TestBuiltAssetsLiveOnTheVolume(t *testing.T) {
	pod := Deployment(space(collabv1.ForumDeploy{}), 1).Template.Spec
	setup, forum := pod.InitContainers[1], pod.Containers[0]
	for _, dir := range []string{ConfigDir, BuildDir, UploadsDir} {
		var got []string
		for _, c := range []corev1.Container{setup, forum} {
			for _, m := range c.VolumeMounts {
				if m.MountPath == dir && m.Name == "data" {
					got = append(got, c.Name+":"+m.SubPath)
				}
			}
		}
		if len(got) != 2 || got[0][len("setup:"):] != got[1][len("nodebb:"):] {
			t.Errorf("%s is mounted from the volume as %v, want the same sub-path in setup and nodebb", dir, got)
		}
	}
	if pod.Volumes[0].PersistentVolumeClaim == nil || pod.Volumes[0].PersistentVolumeClaim.ClaimName != VolumeName("eng") {
		t.Errorf("volume data is %+v, want the claim %s", pod.Volumes[0], VolumeName("eng"))
	}
	if env := envOf(forum); env["CONFIG"] != ConfigFile {
		t.Errorf("nodebb's CONFIG is %q, want %s: its loader reads the configuration's path from it", env["CONFIG"], ConfigFile)
	}
	if !strings.Contains(SetupScript, BuildStampFile) || !strings.Contains(SetupScript, "--build") {
		t.Errorf("the setup script does not rebuild on a new image:\n%s", SetupScript)
	}
}

// TestNoContainerRunsTheImageEntrypoint: NodeBB's image entrypoint runs npm install
// at every start (registry egress) and decides on its own whether to build.
func TestNoContainerRunsTheImageEntrypoint(t *testing.T) {
	pod := Deployment(space(collabv1.ForumDeploy{}), 1).Template.Spec
	for _, c := range append(pod.InitContainers, pod.Containers...) {
		if len(c.Command) == 0 {
			t.Errorf("container %s runs its image's entrypoint", c.Name)
		}
		if cmd := strings.Join(append(c.Command, c.Args...), " "); strings.Contains(cmd, "npm") {
			t.Errorf("container %s runs npm: %s", c.Name, cmd)
		}
	}
}

func TestImageIsTheVersionTheContractRanAgainst(t *testing.T) {
	if !strings.HasSuffix(DefaultNodeBBImage, ":"+NodeBBVersion) {
		t.Errorf("image %s, want the tag %s", DefaultNodeBBImage, NodeBBVersion)
	}
	doc, err := os.ReadFile("../../../../docs/forum-contract.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "## Run against a real NodeBB v"+NodeBBVersion) {
		t.Errorf("docs/forum-contract.md records no run against NodeBB v%s, the pinned version", NodeBBVersion)
	}
}

// TestProbesAskForPages: /api/config and /api/v3 answer while every page fails to
// render (assets not built), so readiness must ask for a page.
func TestProbesAskForPages(t *testing.T) {
	forum := Deployment(space(collabv1.ForumDeploy{}), 1).Template.Spec.Containers[0]
	for name, p := range map[string]*corev1.Probe{"readiness": forum.ReadinessProbe, "startup": forum.StartupProbe} {
		if p == nil || p.HTTPGet == nil || strings.HasPrefix(p.HTTPGet.Path, "/api") {
			t.Errorf("%s probe %+v, want an HTML page", name, p)
		}
	}
}

func TestBuildHasMemoryHeadroom(t *testing.T) {
	pod := Deployment(space(collabv1.ForumDeploy{}), 1).Template.Spec
	// nodebb build peaked at about 730 MiB on 4.15.1.
	peak := resource.MustParse("730Mi")
	if limit := pod.InitContainers[1].Resources.Limits.Memory(); limit.Value() < 2*peak.Value() {
		t.Errorf("setup's memory limit %s leaves less than twice the build's peak", limit)
	}
}

func TestResourcesOverrideDefaults(t *testing.T) {
	d := collabv1.ForumDeploy{Resources: &collabv1.ResourceRequirements{
		Limits: map[string]resource.Quantity{"memory": resource.MustParse("3Gi")},
	}}
	got := resources(space(d), runMemory)
	if got.Limits.Memory().Cmp(resource.MustParse("3Gi")) != 0 {
		t.Errorf("memory limit %s, want the spec's 3Gi", got.Limits.Memory())
	}
	if got.Requests.Memory().Cmp(resource.MustParse("512Mi")) != 0 {
		t.Errorf("memory request %s, want the default 512Mi kept", got.Requests.Memory())
	}
}

func TestNetworkPolicyOpensToIngressControllersOnlyWithAnIngress(t *testing.T) {
	for _, ingress := range []bool{false, true} {
		d := collabv1.ForumDeploy{}
		if ingress {
			d.Ingress = &collabv1.ForumIngress{Host: "f.example.org"}
		}
		np := NetworkPolicy(space(d), "collab-operator-system")
		peers := np.Ingress[0].From
		anyNamespace := false
		for _, p := range peers {
			if p.NamespaceSelector != nil && len(p.NamespaceSelector.MatchLabels) == 0 {
				anyNamespace = true
			}
		}
		if anyNamespace != ingress {
			t.Errorf("with ingress=%v, admits any namespace = %v", ingress, anyNamespace)
		}
		if len(np.Ingress[0].Ports) != 1 || np.Ingress[0].Ports[0].Port.IntValue() != Port ||
			*np.Ingress[0].Ports[0].Protocol != corev1.ProtocolTCP {
			t.Errorf("admits more than TCP %d: %+v", Port, np.Ingress[0].Ports)
		}
	}
}

// TestNetworkPolicyStatesTheEgress: the forum's egress is declared, port by port;
// only an external store, whose address the operator does not know, opens more.
func TestNetworkPolicyStatesTheEgress(t *testing.T) {
	ports := func(rules []networkingv1.NetworkPolicyEgressRule) (out []string, anything bool) {
		for _, r := range rules {
			if len(r.Ports) == 0 && len(r.To) == 0 {
				anything = true
			}
			for _, p := range r.Ports {
				out = append(out, fmt.Sprintf("%s/%s", *p.Protocol, p.Port))
			}
		}
		return out, anything
	}
	np := NetworkPolicy(space(collabv1.ForumDeploy{}), "ops")
	if !slices.Contains(np.PolicyTypes, networkingv1.PolicyTypeEgress) {
		t.Fatalf("policy types %v, want Egress declared", np.PolicyTypes)
	}
	got, anything := ports(np.Egress)
	want := []string{"UDP/53", "TCP/53", "TCP/80", "TCP/443", "TCP/25", "TCP/465", "TCP/587"}
	if diff := cmp.Diff(want, got); diff != "" || anything {
		t.Errorf("egress ports (-want +got):\n%s\nopen to anything: %v", diff, anything)
	}
	external := collabv1.ForumDeploy{Store: collabv1.ForumStore{Type: collabv1.ForumStoreExternal, SecretRef: &collabv1.LocalObjectReference{Name: "db"}}}
	if _, anything := ports(NetworkPolicy(space(external), "ops").Egress); !anything {
		t.Errorf("an external store's database is not reachable")
	}
}
