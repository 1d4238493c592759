package controllers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forumdeploy"
)

// startForumAPI answers the forum's /api/config like a running NodeBB, in place of
// the pods envtest cannot run; the suite reaches every deployed forum there.
func startForumAPI() string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/config" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"version":"4.1.0"}`))
	}))
	return srv.URL
}

func forumSpace(ns, name string) *collabv1.CollaborationSpace {
	space := newSpace(ns, name)
	space.Spec.Forum = &collabv1.ForumSpec{Deploy: &collabv1.ForumDeploy{
		Storage: collabv1.ForumStorage{Size: resource.MustParse("2Gi")},
		Ingress: &collabv1.ForumIngress{Host: name + ".forum.example.org", TLSSecretName: name + "-tls"},
	}}
	return space
}

// markAvailable sets the Deployment's status as the controller-manager would once its
// pod runs: envtest has no controller-manager and no nodes.
func markAvailable(t *testing.T, key client.ObjectKey) {
	t.Helper()
	dep := &appsv1.Deployment{}
	eventually(t, "the forum Deployment to exist", func() (bool, string) {
		err := k8sClient.Get(context.Background(), key, dep)
		return err == nil, fmt.Sprint(err)
	})
	dep.Status = appsv1.DeploymentStatus{
		ObservedGeneration: dep.Generation, Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
			Reason: "MinimumReplicasAvailable", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
	}
	if err := k8sClient.Status().Update(context.Background(), dep); err != nil {
		t.Fatal(err)
	}
}

func forumCondition(t *testing.T, key client.ObjectKey) *metav1.Condition {
	t.Helper()
	space := &collabv1.CollaborationSpace{}
	if err := k8sClient.Get(context.Background(), key, space); err != nil {
		t.Fatal(err)
	}
	return meta.FindStatusCondition(space.Status.Conditions, collabv1.ForumReadyCondition)
}

func TestDeployedForumIsWhatAPlatformEngineerWouldRun(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	space := forumSpace(ns, "docs")
	createSpace(t, space)
	key := client.ObjectKey{Namespace: ns, Name: forumdeploy.Name("docs")}

	eventually(t, "ForumReady=False while the forum starts", func() (bool, string) {
		c := forumCondition(t, client.ObjectKeyFromObject(space))
		return c != nil && c.Reason == "WorkloadsProgressing", fmt.Sprint(c)
	})

	dep := &appsv1.Deployment{}
	if err := k8sClient.Get(ctx, key, dep); err != nil {
		t.Fatal(err)
	}
	pod := dep.Spec.Template.Spec
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("forum pod may run as root: %+v", pod.SecurityContext)
	}
	for _, c := range append(pod.InitContainers, pod.Containers...) {
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || len(sc.Capabilities.Drop) == 0 {
			t.Errorf("container %s is not locked down: %+v", c.Name, sc)
		}
		if c.Resources.Requests.Memory().IsZero() {
			t.Errorf("container %s has no memory request", c.Name)
		}
	}
	if names := containerNames(pod.Containers); fmt.Sprint(names) != "[nodebb redis]" {
		t.Errorf("containers %v, want nodebb with a redis beside it", names)
	}
	if pod.Containers[0].ReadinessProbe == nil || pod.Containers[0].LivenessProbe == nil || pod.Containers[0].StartupProbe == nil {
		t.Errorf("the forum container lacks probes")
	}
	if !metav1.IsControlledBy(dep, getSpace(t, space)) || dep.Labels[SpaceLabel] != "docs" {
		t.Errorf("Deployment not owned and labelled by its space: %v %v", dep.OwnerReferences, dep.Labels)
	}

	pvc := &corev1.PersistentVolumeClaim{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: forumdeploy.VolumeName("docs")}, pvc); err != nil {
		t.Fatal(err)
	}
	if got := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("volume size %s, want 2Gi", got.String())
	}
	np := &networkingv1.NetworkPolicy{}
	if err := k8sClient.Get(ctx, key, np); err != nil {
		t.Fatal(err)
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port.IntValue() != forumdeploy.Port {
		t.Errorf("NetworkPolicy admits more than the forum's port: %+v", np.Spec.Ingress)
	}
	ing := &networkingv1.Ingress{}
	if err := k8sClient.Get(ctx, key, ing); err != nil || ing.Spec.Rules[0].Host != "docs.forum.example.org" {
		t.Errorf("Ingress %+v (%v), want host docs.forum.example.org", ing.Spec.Rules, err)
	}

	// The admin password is generated once and never overwritten.
	password := adminPassword(t, ns)
	if len(password) < 32 {
		t.Errorf("generated admin password is %d characters, want at least 32", len(password))
	}
	markAvailable(t, key)
	waitReady(t, client.ObjectKeyFromObject(space))
	if got := forumCondition(t, client.ObjectKeyFromObject(space)); got.Reason != "ForumRunning" {
		t.Errorf("ForumReady reason %s, want ForumRunning", got.Reason)
	}
	if adminPassword(t, ns) != password {
		t.Errorf("the admin password changed between passes")
	}
	if got := getSpace(t, space).Status.Forum.URL; got != "https://docs.forum.example.org" {
		t.Errorf("status.forum.url = %s, want the Ingress host", got)
	}
}

func containerNames(cs []corev1.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func adminPassword(t *testing.T, ns string) string {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: forumdeploy.AdminSecretName("docs")}, s); err != nil {
		t.Fatal(err)
	}
	return string(s.Data[forumdeploy.AdminPasswordKey])
}

func getSpace(t *testing.T, space *collabv1.CollaborationSpace) *collabv1.CollaborationSpace {
	t.Helper()
	got := &collabv1.CollaborationSpace{}
	if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(space), got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestForumDeletionPolicies(t *testing.T) {
	tests := map[string]struct {
		policy collabv1.DeletionPolicy
		// kept objects, by kind; a kept Deployment also has its replicas checked.
		kept         []string
		wantReplicas int32
	}{
		"Archive keeps the volume, the admin Secret and a stopped forum": {
			policy: collabv1.DeletionPolicyArchive, kept: []string{"PersistentVolumeClaim", "Secret", "Deployment"}, wantReplicas: 0,
		},
		"Retain lets everything go as it runs": {
			policy: collabv1.DeletionPolicyRetain, kept: []string{"PersistentVolumeClaim", "Secret", "Deployment", "Service", "NetworkPolicy"}, wantReplicas: 1,
		},
		"Delete removes the forum and its volume": {policy: collabv1.DeletionPolicyDelete},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			ns := newNamespace(t)
			space := forumSpace(ns, "docs")
			space.Spec.Forum.Deploy.Ingress = nil
			space.Spec.DeletionPolicy = tc.policy
			createSpace(t, space)
			key := client.ObjectKey{Namespace: ns, Name: forumdeploy.Name("docs")}
			markAvailable(t, key)
			waitReady(t, client.ObjectKeyFromObject(space))

			if err := k8sClient.Delete(ctx, space); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the space to be gone", func() (bool, string) {
				err := k8sClient.Get(ctx, client.ObjectKeyFromObject(space), space)
				return apierrors.IsNotFound(err), fmt.Sprint(err)
			})
			objs := map[string]client.Object{
				"PersistentVolumeClaim": &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.VolumeName("docs"), Namespace: ns}},
				"Secret":                &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.AdminSecretName("docs"), Namespace: ns}},
				"Deployment":            &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: ns}},
				"Service":               &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: ns}},
				"NetworkPolicy":         &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: ns}},
			}
			for kind, obj := range objs {
				err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)
				// Without a controller-manager a deleted claim waits on its
				// protection finalizer: being deleted counts as gone.
				gone := apierrors.IsNotFound(err) || (err == nil && !obj.GetDeletionTimestamp().IsZero())
				want := slices.Contains(tc.kept, kind)
				switch {
				case want && gone:
					t.Errorf("%s was removed; %s should keep it", kind, tc.policy)
				case !want && !gone:
					t.Errorf("%s was kept; %s should remove it", kind, tc.policy)
				case want && len(obj.GetOwnerReferences()) != 0:
					t.Errorf("kept %s still has owner references %v: the garbage collector would delete it", kind, obj.GetOwnerReferences())
				}
			}
			if dep := objs["Deployment"].(*appsv1.Deployment); slices.Contains(tc.kept, "Deployment") && *dep.Spec.Replicas != tc.wantReplicas {
				t.Errorf("kept Deployment has %d replicas, want %d", *dep.Spec.Replicas, tc.wantReplicas)
			}
		})
	}
}
