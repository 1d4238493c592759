package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// release is the release name under which the chart's object names equal
// config/default's.
const release = "collab-operator"

// helm runs the pinned helm (hack/local-bins.sh helm) with its caches in a
// temporary directory, and returns its stdout.
func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	bin := localBin(t, "helm", "helm")
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot
	cmd.Env = append(cmd.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

// helmTemplate renders the chart as release `name` in the operator's namespace, CRDs
// included, with `--set` values.
func helmTemplate(t *testing.T, name string, set ...string) map[string]*unstructured.Unstructured {
	t.Helper()
	args := []string{"template", name, chartDir, "--namespace", operatorNamespace, "--include-crds"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	objs, err := decodeObjects(helm(t, args...))
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	return byKey(t, objs)
}

// TestHelmLint lints the chart strictly, with its defaults and with every optional
// object turned on.
func TestHelmLint(t *testing.T) {
	helm(t, "lint", "--strict", chartDir)
	helm(t, "lint", "--strict", chartDir, "--set", "serviceMonitor.enabled=true",
		"--set", "metrics.readers[0].kind=ServiceAccount,metrics.readers[0].name=prometheus,metrics.readers[0].namespace=monitoring")
}

// TestHelmRendersConfig checks that the chart with its defaults installs what
// `kubectl kustomize config/default` does: the same objects under the same names, the
// same CRDs, the same RBAC, and the manager's container as config/manager has it.
func TestHelmRendersConfig(t *testing.T) {
	chart := helmTemplate(t, release)
	kust := byKey(t, kustomize(t, "config/default"))

	// The same objects, but the Namespace: `helm install --create-namespace` makes it.
	var want, got []string
	for k, o := range kust {
		if o.GetKind() != "Namespace" {
			want = append(want, k)
		}
	}
	for k := range chart {
		got = append(got, k)
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the chart renders other objects than config/default (-kustomize +helm):\n%s", diff)
	}

	for key, k := range kust {
		h := chart[key]
		if h == nil {
			continue
		}
		switch k.GetKind() {
		case "CustomResourceDefinition":
			if diff := cmp.Diff(k.Object, h.Object); diff != "" {
				t.Errorf("%s differs (-kustomize +helm): run make helm-sync\n%s", key, diff)
			}
		case "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding":
			if diff := cmp.Diff(meaningful(k), meaningful(h)); diff != "" {
				t.Errorf("%s differs (-kustomize +helm): run make helm-sync\n%s", key, diff)
			}
		case "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
			if diff := cmp.Diff(meaningful(k), meaningful(h)); diff != "" {
				t.Errorf("%s differs (-kustomize +helm); roles are copied by make helm-sync, the rest are %s/templates:\n%s",
					key, chartDir, diff)
			}
		}
	}

	deployKey := "Deployment/" + operatorNamespace + "/collab-operator-controller-manager"
	if kust[deployKey] != nil && chart[deployKey] != nil {
		comparePodSpecs(t, kust[deployKey], chart[deployKey])
	}
	svcKey := "Service/" + operatorNamespace + "/collab-operator-controller-manager-metrics-service"
	if kust[svcKey] != nil && chart[svcKey] != nil {
		kp, _, _ := unstructured.NestedSlice(kust[svcKey].Object, "spec", "ports")
		hp, _, _ := unstructured.NestedSlice(chart[svcKey].Object, "spec", "ports")
		if diff := cmp.Diff(kp, hp); diff != "" {
			t.Errorf("the metrics Service's ports differ (-kustomize +helm):\n%s", diff)
		}
	}
	checkWiring(t, chart, operatorNamespace, release+"-")
}

// meaningful drops what a chart and kustomize label differently (app.kubernetes.io/*,
// helm.sh/chart) from an object, keeping the labels that mean something, such as
// aggregate-to-admin.
func meaningful(o *unstructured.Unstructured) map[string]any {
	c := o.DeepCopy()
	kept := map[string]string{}
	for k, v := range c.GetLabels() {
		if !strings.HasPrefix(k, "app.kubernetes.io/") && !strings.HasPrefix(k, "helm.sh/") {
			kept[k] = v
		}
	}
	c.SetLabels(kept)
	if len(kept) == 0 {
		unstructured.RemoveNestedField(c.Object, "metadata", "labels")
	}
	return c.Object
}

// comparePodSpecs checks that the chart runs the manager as config/manager does. The
// chart differs on purpose in the image, the pod labels and the flags its values
// always set; both set POD_NAMESPACE (for --operator-namespace) and
// COLLAB_MEMORY_LIMIT (Go's soft memory limit).
func comparePodSpecs(t *testing.T, kust, chart *unstructured.Unstructured) {
	t.Helper()
	kspec, _, _ := unstructured.NestedMap(kust.Object, "spec", "template", "spec")
	hspec, _, _ := unstructured.NestedMap(chart.Object, "spec", "template", "spec")
	kc := kspec["containers"].([]any)[0].(map[string]any)
	hc := hspec["containers"].([]any)[0].(map[string]any)

	wantArgs := append(slices.Clone(kc["args"].([]any)),
		"--max-concurrent-reconciles=4", "--max-member-removals=5", "--insights-interval=5m", "--zap-log-level=info")
	if diff := cmp.Diff(wantArgs, hc["args"]); diff != "" {
		t.Errorf("the manager's args differ from config/manager's plus the chart's defaults (-want +helm):\n%s", diff)
	}
	wantEnv := []any{map[string]any{
		"name":      "POD_NAMESPACE",
		"valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.namespace"}},
	}, map[string]any{
		"name":      "COLLAB_MEMORY_LIMIT", // Go's soft limit follows the container's
		"valueFrom": map[string]any{"resourceFieldRef": map[string]any{"resource": "limits.memory"}},
	}}
	if diff := cmp.Diff(wantEnv, kc["env"]); diff != "" {
		t.Errorf("config/manager's env (-want +kustomize):\n%s", diff)
	}
	if diff := cmp.Diff(wantEnv, hc["env"]); diff != "" {
		t.Errorf("the manager's env (-want +helm):\n%s", diff)
	}
	for _, c := range []map[string]any{kc, hc} {
		for _, f := range []string{"args", "env", "image", "imagePullPolicy"} {
			delete(c, f)
		}
	}
	if diff := cmp.Diff(kspec, hspec); diff != "" {
		t.Errorf("the manager's pod spec differs from config/manager's (-kustomize +helm):\n%s", diff)
	}
	kr, _, _ := unstructured.NestedInt64(kust.Object, "spec", "replicas")
	hr, _, _ := unstructured.NestedInt64(chart.Object, "spec", "replicas")
	if kr != hr {
		t.Errorf("replicas: kustomize %d, helm %d", kr, hr)
	}
}

// TestHelmValues checks what each value turns on and off.
func TestHelmValues(t *testing.T) {
	const ns = operatorNamespace
	managerArgs := func(t *testing.T, objs map[string]*unstructured.Unstructured, prefix string) []string {
		t.Helper()
		d := objs["Deployment/"+ns+"/"+prefix+"controller-manager"]
		if d == nil {
			t.Fatalf("no Deployment %scontroller-manager", prefix)
		}
		cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		args, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
		return args
	}
	has := func(objs map[string]*unstructured.Unstructured, key string) bool { return objs[key] != nil }

	cases := map[string]struct {
		release string
		set     []string
		check   func(t *testing.T, objs map[string]*unstructured.Unstructured)
	}{
		"serviceMonitor scrapes the metrics Service over HTTPS": {
			set: []string{"serviceMonitor.enabled=true", "serviceMonitor.labels.release=kube-prometheus-stack"},
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				sm := objs["ServiceMonitor/"+ns+"/collab-operator-controller-manager-metrics-monitor"]
				svc := objs["Service/"+ns+"/collab-operator-controller-manager-metrics-service"]
				if sm == nil || svc == nil {
					t.Fatal("no ServiceMonitor or no metrics Service")
				}
				if sm.GetLabels()["release"] != "kube-prometheus-stack" {
					t.Errorf("ServiceMonitor labels %v lack serviceMonitor.labels", sm.GetLabels())
				}
				sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
				if !labels.SelectorFromSet(sel).Matches(labels.Set(svc.GetLabels())) {
					t.Errorf("the ServiceMonitor's selector %v does not select the Service %v", sel, svc.GetLabels())
				}
				eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
				ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
				ep, port := eps[0].(map[string]any), ports[0].(map[string]any)
				if ep["port"] != port["name"] || ep["scheme"] != "https" || ep["bearerTokenFile"] == nil {
					t.Errorf("endpoint %v does not scrape port %v with HTTPS and a token", ep, port["name"])
				}
			},
		},
		"metrics.secure=false serves HTTP without the auth roles": {
			set: []string{"metrics.secure=false", "metrics.port=8080", "serviceMonitor.enabled=true"},
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				if args := managerArgs(t, objs, "collab-operator-"); slices.Contains(args, "--metrics-secure") ||
					!slices.Contains(args, "--metrics-bind-address=:8080") {
					t.Errorf("args %v", args)
				}
				for _, k := range []string{"ClusterRole/collab-operator-metrics-auth-role", "ClusterRoleBinding/collab-operator-metrics-auth-rolebinding", "ClusterRole/collab-operator-metrics-reader"} {
					if has(objs, k) {
						t.Errorf("%s rendered with insecure metrics", k)
					}
				}
				svc := objs["Service/"+ns+"/collab-operator-controller-manager-metrics-service"]
				ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
				if p := ports[0].(map[string]any); p["name"] != "http" || p["port"] != int64(8080) {
					t.Errorf("Service port %v, want http 8080", p)
				}
				sm := objs["ServiceMonitor/"+ns+"/collab-operator-controller-manager-metrics-monitor"]
				eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
				if ep := eps[0].(map[string]any); ep["scheme"] != "http" || ep["port"] != "http" || ep["tlsConfig"] != nil {
					t.Errorf("endpoint %v, want plain http", ep)
				}
			},
		},
		"grafanaDashboard ships the openness dashboard for Grafana's sidecar": {
			set: []string{"grafanaDashboard.enabled=true"},
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				cm := objs["ConfigMap/"+ns+"/collab-operator-collab-openness-dashboard"]
				if cm == nil {
					t.Fatal("no dashboard ConfigMap")
				}
				if cm.GetLabels()["grafana_dashboard"] != "1" {
					t.Errorf("labels %v lack grafana_dashboard: \"1\"", cm.GetLabels())
				}
				got, _, _ := unstructured.NestedString(cm.Object, "data", "collab-openness.json")
				want, err := os.ReadFile(filepath.Join(repoRoot, "config/grafana/collab-openness.json"))
				if err != nil {
					t.Fatal(err)
				}
				if got != strings.TrimSuffix(string(want), "\n") {
					t.Errorf("the ConfigMap's dashboard differs from config/grafana/collab-openness.json")
				}
			},
		},
		"metrics.enabled=false turns the endpoint and Service off": {
			set: []string{"metrics.enabled=false", "serviceMonitor.enabled=true"},
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				if args := managerArgs(t, objs, "collab-operator-"); !slices.Contains(args, "--metrics-bind-address=0") {
					t.Errorf("args %v lack --metrics-bind-address=0", args)
				}
				for k := range objs {
					if strings.Contains(k, "metrics") {
						t.Errorf("%s rendered with metrics off", k)
					}
				}
			},
		},
		"metrics.readers are bound to the metrics-reader role": {
			set: []string{"metrics.readers[0].kind=ServiceAccount,metrics.readers[0].name=prometheus-k8s,metrics.readers[0].namespace=monitoring"},
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				b := objs["ClusterRoleBinding/collab-operator-metrics-reader-rolebinding"]
				if b == nil {
					t.Fatal("no metrics-reader binding")
				}
				role, _, _ := unstructured.NestedString(b.Object, "roleRef", "name")
				subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
				want := []any{map[string]any{"kind": "ServiceAccount", "name": "prometheus-k8s", "namespace": "monitoring"}}
				if role != "collab-operator-metrics-reader" || !has(objs, "ClusterRole/"+role) || !cmp.Equal(subjects, want) {
					t.Errorf("binding to %s of %v", role, subjects)
				}
			},
		},
		"admissionPolicies.enabled=false drops the admission policies": {
			set: []string{"admissionPolicies.enabled=false"},
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				for k, o := range objs {
					if strings.HasPrefix(o.GetKind(), "ValidatingAdmissionPolicy") {
						t.Errorf("%s rendered", k)
					}
				}
			},
		},
		"leaderElection.enabled=false drops the flag and its Role": {
			set: []string{"leaderElection.enabled=false"},
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				if args := managerArgs(t, objs, "collab-operator-"); slices.Contains(args, "--leader-elect") {
					t.Errorf("args %v", args)
				}
				for k := range objs {
					if strings.Contains(k, "leader-election") {
						t.Errorf("%s rendered without leader election", k)
					}
				}
			},
		},
		"rbac.aggregatedRoles=false drops the roles for people": {
			set: []string{"rbac.aggregatedRoles=false"},
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				for k, o := range objs {
					for l := range o.GetLabels() {
						if strings.HasPrefix(l, "rbac.authorization.k8s.io/aggregate-to-") {
							t.Errorf("%s rendered", k)
						}
					}
				}
			},
		},
		"an existing ServiceAccount is bound and used": {
			set: []string{"serviceAccount.create=false", "serviceAccount.name=collab-bot"},
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				for k, o := range objs {
					if o.GetKind() == "ServiceAccount" {
						t.Errorf("%s rendered", k)
					}
					subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
					for _, s := range subjects {
						if s.(map[string]any)["name"] != "collab-bot" {
							t.Errorf("%s binds %v", k, s)
						}
					}
				}
				d := objs["Deployment/"+ns+"/collab-operator-controller-manager"]
				if sa, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "serviceAccountName"); sa != "collab-bot" {
					t.Errorf("the manager runs as %q", sa)
				}
			},
		},
		"image, replicas and manager flags come from values": {
			set: []string{"image.repository=registry.example.org/collab-operator", "image.tag=v1.2.3", "replicas=2",
				"maxConcurrentReconciles=8", "maxMemberRemovals=2", "logLevel=debug", "extraArgs[0]=--enable-http2"},
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				d := objs["Deployment/"+ns+"/collab-operator-controller-manager"]
				cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
				if img := cs[0].(map[string]any)["image"]; img != "registry.example.org/collab-operator:v1.2.3" {
					t.Errorf("image %v", img)
				}
				if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 2 {
					t.Errorf("replicas %d", r)
				}
				args := managerArgs(t, objs, "collab-operator-")
				for _, a := range []string{"--max-concurrent-reconciles=8", "--max-member-removals=2", "--zap-log-level=debug", "--enable-http2"} {
					if !slices.Contains(args, a) {
						t.Errorf("args %v lack %s", args, a)
					}
				}
			},
		},
		"sharding values run the manager as a shard": {
			set: []string{"sharding.watchLabelSelector=collab.opencommons.io/shard=shard-a", "sharding.backendControllers=false"},
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				args := managerArgs(t, objs, "collab-operator-")
				for _, a := range []string{"--watch-label-selector=collab.opencommons.io/shard=shard-a", "--backend-controllers=false"} {
					if !slices.Contains(args, a) {
						t.Errorf("args %v lack %s", args, a)
					}
				}
			},
		},
		"another release name prefixes every name and keeps Service names DNS labels": {
			release: "team-a-collaboration-platform-prod",
			check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				for k, o := range objs {
					if o.GetKind() == "CustomResourceDefinition" {
						continue
					}
					if !strings.HasPrefix(o.GetName(), "team-a-collaboration-platfor") {
						t.Errorf("%s lacks the release's prefix", k)
					}
					if o.GetKind() == "Service" && len(o.GetName()) > 63 {
						t.Errorf("%s is longer than 63 characters", k)
					}
				}
				checkWiring(t, objs, ns, "team-a-collaboration-platfor-")
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rel := tc.release
			if rel == "" {
				rel = release
			}
			tc.check(t, helmTemplate(t, rel, tc.set...))
		})
	}
}
