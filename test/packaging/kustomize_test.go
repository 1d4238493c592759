package packaging

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// operatorNamespace is where config/default installs the operator.
const operatorNamespace = "collab-operator-system"

// kustomize renders a config/ directory with the pinned kubectl.
func kustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	kubectl := localBin(t, "k8s", "kubectl")
	objs, err := decodeObjects(run(t, kubectl, "kustomize", dir))
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v", dir, err)
	}
	return objs
}

// TestKustomizeInstall checks that `kubectl apply -k config/default` (make deploy)
// still installs a working operator: the CRDs, the manager, its metrics Service, and
// the RBAC the manager runs with.
func TestKustomizeInstall(t *testing.T) {
	objs := byKey(t, kustomize(t, "config/default"))
	for _, want := range []string{
		"Namespace/" + operatorNamespace,
		"CustomResourceDefinition/collaborationspaces.collab.opencommons.io",
		"CustomResourceDefinition/chatbackends.collab.opencommons.io",
		"CustomResourceDefinition/forumbackends.collab.opencommons.io",
		"CustomResourceDefinition/collaborationpolicies.collab.opencommons.io",
		"ServiceAccount/" + operatorNamespace + "/collab-operator-controller-manager",
		"ClusterRole/collab-operator-manager-role",
		"ClusterRoleBinding/collab-operator-manager-rolebinding",
		"Role/" + operatorNamespace + "/collab-operator-leader-election-role",
		"RoleBinding/" + operatorNamespace + "/collab-operator-leader-election-rolebinding",
		"Deployment/" + operatorNamespace + "/collab-operator-controller-manager",
		"Service/" + operatorNamespace + "/collab-operator-controller-manager-metrics-service",
		"ValidatingAdmissionPolicy/collab-operator-collaboration-policy",
		"ValidatingAdmissionPolicyBinding/collab-operator-collaboration-policy",
		"ValidatingAdmissionPolicy/collab-operator-chat-backend-selector",
		"ValidatingAdmissionPolicyBinding/collab-operator-chat-backend-selector",
		"ValidatingAdmissionPolicy/collab-operator-forum-backend-selector",
		"ValidatingAdmissionPolicyBinding/collab-operator-forum-backend-selector",
	} {
		if objs[want] == nil {
			t.Errorf("kubectl kustomize config/default renders no %s", want)
		}
	}
	for key, o := range objs {
		if o.GetKind() == "Namespace" || o.GetNamespace() == "" {
			continue
		}
		if o.GetNamespace() != operatorNamespace {
			t.Errorf("%s is outside %s", key, operatorNamespace)
		}
	}
	checkWiring(t, objs, operatorNamespace, "collab-operator-")
}

// TestKustomizeCRDs checks config/crd alone, which `make install` applies.
func TestKustomizeCRDs(t *testing.T) {
	objs := kustomize(t, "config/crd")
	if len(objs) != 5 {
		t.Errorf("kubectl kustomize config/crd renders %d objects, want the 5 CRDs", len(objs))
	}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			t.Errorf("config/crd renders %s", objectKey(o))
		}
	}
}

// checkWiring checks that the manager's Deployment runs as a ServiceAccount that is
// rendered and bound to the manager's ClusterRole, and that the metrics Service selects
// its pods on its metrics port. Every object's name starts with prefix.
func checkWiring(t *testing.T, objs map[string]*unstructured.Unstructured, namespace, prefix string) {
	t.Helper()
	deploy := objs["Deployment/"+namespace+"/"+prefix+"controller-manager"]
	svc := objs["Service/"+namespace+"/"+prefix+"controller-manager-metrics-service"]
	if deploy == nil || svc == nil {
		t.Fatalf("no Deployment %[1]scontroller-manager or Service %[1]scontroller-manager-metrics-service in %[2]s", prefix, namespace)
	}
	podLabels, _, _ := unstructured.NestedStringMap(deploy.Object, "spec", "template", "metadata", "labels")
	matchLabels, _, _ := unstructured.NestedStringMap(deploy.Object, "spec", "selector", "matchLabels")
	if !labels.SelectorFromSet(matchLabels).Matches(labels.Set(podLabels)) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", matchLabels, podLabels)
	}
	svcSelector, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	if len(svcSelector) == 0 || !labels.SelectorFromSet(svcSelector).Matches(labels.Set(podLabels)) {
		t.Errorf("the metrics Service's selector %v does not select the manager's pods %v", svcSelector, podLabels)
	}
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	containers, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	if len(ports) != 1 || len(containers) != 1 {
		t.Fatalf("want one Service port and one container, have %d and %d", len(ports), len(containers))
	}
	target := ports[0].(map[string]any)["targetPort"]
	var named bool
	cports, _, _ := unstructured.NestedSlice(containers[0].(map[string]any), "ports")
	for _, p := range cports {
		if p.(map[string]any)["name"] == target {
			named = true
		}
	}
	if !named {
		t.Errorf("the metrics Service targets port %v, which the manager's container does not name", target)
	}

	sa, _, _ := unstructured.NestedString(deploy.Object, "spec", "template", "spec", "serviceAccountName")
	if objs["ServiceAccount/"+namespace+"/"+sa] == nil {
		t.Errorf("the manager runs as ServiceAccount %s, which is not rendered", sa)
	}
	var bound bool
	for _, o := range objs {
		if o.GetKind() != "ClusterRoleBinding" {
			continue
		}
		role, _, _ := unstructured.NestedString(o.Object, "roleRef", "name")
		if objs["ClusterRole/"+role] == nil {
			t.Errorf("%s binds ClusterRole %s, which is not rendered", objectKey(o), role)
		}
		subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
		for _, s := range subjects {
			s := s.(map[string]any)
			if s["kind"] == "ServiceAccount" && s["name"] == sa && s["namespace"] == namespace && role == prefix+"manager-role" {
				bound = true
			}
		}
	}
	if !bound {
		t.Errorf("no ClusterRoleBinding binds %smanager-role to ServiceAccount %s/%s", prefix, namespace, sa)
	}
}
