package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/fake"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/forumdeploy"
)

// forumToken is the master API token of the suite's stand-in forum.
const forumToken = "suite-forum-token"

// startForumAPI runs the in-repo NodeBB stand-in on loopback, in place of the forum
// pods envtest cannot run; the suite reaches every deployed forum there.
func startForumAPI() (*fake.Server, string) {
	srv := fake.NewServer(forumToken)
	if err := srv.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	return srv, srv.URL()
}

// provideForumToken stores the forum's API token in its admin Secret, as the
// administrator does once after the forum's first start.
func provideForumToken(t *testing.T, ns, space string) {
	t.Helper()
	s := &corev1.Secret{}
	key := client.ObjectKey{Namespace: ns, Name: forumdeploy.AdminSecretName(space)}
	eventually(t, "the forum's admin Secret", func() (bool, string) {
		err := k8sClient.Get(context.Background(), key, s)
		return err == nil, fmt.Sprint(err)
	})
	s.Data["token"] = []byte(forumToken)
	if err := k8sClient.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// forumSpace returns a space with a deployed forum. The suite's forums all live in
// one stand-in server, so category names carry the space's name to stay apart.
func forumSpace(ns, name string) *collabv1.CollaborationSpace {
	space := newSpace(ns, name)
	space.Spec.Forum = &collabv1.ForumSpec{
		Deploy: &collabv1.ForumDeploy{
			Storage: collabv1.ForumStorage{Size: resource.MustParse("2Gi")},
			Ingress: &collabv1.ForumIngress{Host: name + ".forum.example.org", TLSSecretName: name + "-tls"},
		},
		Categories: []collabv1.Category{
			{Name: name + " RFCs", Description: "Proposals for review", Posting: collabv1.PostingMembers},
			{Name: name + " News", Posting: collabv1.PostingOwners},
		},
	}
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
	eventually(t, "ForumReady=False asking for the API token", func() (bool, string) {
		c := forumCondition(t, client.ObjectKeyFromObject(space))
		return c != nil && c.Reason == "ForumTokenMissing" && strings.Contains(c.Message, "docs-forum-admin"), fmt.Sprint(c)
	})
	provideForumToken(t, ns, "docs")
	waitReady(t, client.ObjectKeyFromObject(space))
	if got := forumCondition(t, client.ObjectKeyFromObject(space)); got.Reason != "CategoriesReady" {
		t.Errorf("ForumReady reason %s, want CategoriesReady", got.Reason)
	}
	checkCategoriesInForum(t, getSpace(t, space), "docs")
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
			name := "forum-" + strings.ToLower(string(tc.policy))
			space := forumSpace(ns, name)
			space.Spec.Forum.Deploy.Ingress = nil
			space.Spec.DeletionPolicy = tc.policy
			createSpace(t, space)
			key := client.ObjectKey{Namespace: ns, Name: forumdeploy.Name(name)}
			markAvailable(t, key)
			provideForumToken(t, ns, name)
			categories := waitReady(t, client.ObjectKeyFromObject(space)).Status.Forum.Categories

			if err := k8sClient.Delete(ctx, space); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the space to be gone", func() (bool, string) {
				err := k8sClient.Get(ctx, client.ObjectKeyFromObject(space), space)
				return apierrors.IsNotFound(err), fmt.Sprint(err)
			})
			objs := map[string]client.Object{
				"PersistentVolumeClaim": &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.VolumeName(name), Namespace: ns}},
				"Secret":                &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.AdminSecretName(name), Namespace: ns}},
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
			// Archive closes the categories and keeps their topics; Retain leaves them
			// open; Delete leaves the forum's data to go with its volume.
			if tc.policy != collabv1.DeletionPolicyDelete {
				for _, cat := range categories {
					got, err := forumClient(t).ObserveCategory(ctx, cat.ID, 0, "")
					if err != nil || got == nil {
						t.Fatalf("category %q gone from the forum (%v)", cat.Name, err)
					}
					if want := tc.policy == collabv1.DeletionPolicyArchive; got.Disabled != want {
						t.Errorf("category %q disabled = %v, want %v", cat.Name, got.Disabled, want)
					}
				}
			}
		})
	}
}

// forumClient reads the stand-in forum as its administrator.
func forumClient(t *testing.T) forum.Client {
	t.Helper()
	c, err := nodebb.New(nodebb.Config{URL: forumAPI, Token: forumToken, UID: fake.AdminUID})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkCategoriesInForum checks, in the forum itself, that the categories in status
// exist with their posting rules: members may post in RFCs, only owners in News.
func checkCategoriesInForum(t *testing.T, space *collabv1.CollaborationSpace, name string) {
	t.Helper()
	if space.Status.Forum == nil || len(space.Status.Forum.Categories) != 2 {
		t.Fatalf("status.forum = %+v, want 2 categories", space.Status.Forum)
	}
	want := map[string]bool{name + " RFCs": true, name + " News": false}
	for _, cat := range space.Status.Forum.Categories {
		got, err := forumClient(t).ObserveCategory(context.Background(), cat.ID, 0, "")
		if err != nil || got == nil {
			t.Fatalf("category %q (%d) not in the forum: %v", cat.Name, cat.ID, err)
		}
		membersPost := got.Privileges.Has(name+"-members", "topics:create")
		if got.Name != cat.Name || membersPost != want[cat.Name] {
			t.Errorf("category %q: name %q, members may post = %v, want %v", cat.Name, got.Name, membersPost, want[cat.Name])
		}
		if !got.Privileges.Has(name+"-owners", "topics:create") || !got.Privileges.Has(name+"-owners", "moderate") {
			t.Errorf("category %q: owners cannot post and moderate: %v", cat.Name, got.Privileges)
		}
	}
}

func TestSharedForumGivesTheDepartmentItsOwnCategory(t *testing.T) {
	ctx := testCtx(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "forum-credentials", Namespace: "collab-system"},
		Data:       map[string][]byte{"token": []byte(forumToken), "uid": []byte("1")},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	backend := &collabv1.ForumBackend{
		ObjectMeta: metav1.ObjectMeta{Name: "company-forum"},
		Spec: collabv1.ForumBackendSpec{NodeBB: &collabv1.NodeBBBackend{
			URL: forumAPI, CredentialsSecretRef: collabv1.SecretReference{Namespace: "collab-system", Name: secret.Name},
		}},
	}
	if err := k8sClient.Create(ctx, backend); err != nil {
		t.Fatal(err)
	}
	space := newSpace(newNamespace(t), "shared")
	space.Spec.Department = "Shared Services"
	space.Spec.Forum = &collabv1.ForumSpec{
		BackendRef: &collabv1.LocalObjectReference{Name: backend.Name},
		Categories: []collabv1.Category{{Name: "shared RFCs"}, {Name: "shared News", Posting: collabv1.PostingOwners}},
	}
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	checkCategoriesInForum(t, space, "shared")

	parent, err := forumClient(t).ObserveCategory(ctx, space.Status.Forum.ParentCategoryID, 0, "")
	if err != nil || parent == nil || parent.Name != "Shared Services" {
		t.Fatalf("department category %+v (%v), want one named after the department", parent, err)
	}
	for _, cat := range space.Status.Forum.Categories {
		got, _ := forumClient(t).ObserveCategory(ctx, cat.ID, 0, "")
		if got.ParentID != parent.ID {
			t.Errorf("category %q is under %d, want the department's %d", cat.Name, got.ParentID, parent.ID)
		}
	}
	eventually(t, "the ForumBackend to be Ready", func() (bool, string) {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(backend), backend); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(backend.Status.Conditions, collabv1.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionTrue && backend.Status.Version != "", fmt.Sprint(c)
	})

	// Archive keeps the topics: the categories are disabled, not deleted.
	if err := k8sClient.Delete(ctx, space); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the categories to be disabled", func() (bool, string) {
		for _, cat := range space.Status.Forum.Categories {
			got, err := forumClient(t).ObserveCategory(ctx, cat.ID, 0, "")
			if err != nil || got == nil || !got.Disabled {
				return false, fmt.Sprintf("%q: %+v %v", cat.Name, got, err)
			}
		}
		return true, ""
	})
}
