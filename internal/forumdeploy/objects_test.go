package forumdeploy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
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

func TestDeploymentStore(t *testing.T) {
	tests := map[string]struct {
		store          collabv1.ForumStore
		wantContainers []string
		wantEnvFrom    bool
	}{
		"Redis by default, beside the forum": {wantContainers: []string{"nodebb", "redis"}},
		"an external database from a Secret": {
			store:          collabv1.ForumStore{Type: collabv1.ForumStoreExternal, SecretRef: &collabv1.LocalObjectReference{Name: "db"}},
			wantContainers: []string{"nodebb"},
			wantEnvFrom:    true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := Deployment(space(collabv1.ForumDeploy{Store: tc.store}), 1)
			var names []string
			for _, c := range spec.Template.Spec.Containers {
				names = append(names, c.Name)
			}
			if diff := cmp.Diff(tc.wantContainers, names); diff != "" {
				t.Errorf("containers (-want +got):\n%s", diff)
			}
			if got := len(spec.Template.Spec.Containers[0].EnvFrom) > 0; got != tc.wantEnvFrom {
				t.Errorf("envFrom set = %v, want %v", got, tc.wantEnvFrom)
			}
		})
	}
}

func TestResourcesOverrideDefaults(t *testing.T) {
	d := collabv1.ForumDeploy{Resources: &collabv1.ResourceRequirements{
		Limits: map[string]resource.Quantity{"memory": resource.MustParse("2Gi")},
	}}
	got := resources(space(d))
	if got.Limits.Memory().Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("memory limit %s, want the spec's 2Gi", got.Limits.Memory())
	}
	if got.Requests.Memory().Cmp(resource.MustParse("512Mi")) != 0 {
		t.Errorf("memory request %s, want the default 512Mi kept", got.Requests.Memory())
	}
}

func TestNetworkPolicyOpensToIngressControllersOnlyWithAnIngress(t *testing.T) {
	for _, ingress := range []bool{false, true} {
		np := NetworkPolicy("eng", "collab-operator-system", ingress)
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
