package controllers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	forumdeploy "github.com/opencommons/collab-operator/internal/forum/nodebb/deploy"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
	nodebbplan "github.com/opencommons/collab-operator/internal/forum/nodebb/plan"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/spacepass"
	"github.com/opencommons/collab-operator/internal/spacepass/forumphase"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
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

// startForum does for a deployed forum what its pod does before it turns
// Available: NodeBB's setup creates the admin account from the env vars the
// Deployment takes from the admin Secret (here on the suite's stand-in forum);
// then the Deployment is marked Available. The operator then mints its token
// itself. It returns the admin account's uid.
func startForum(t *testing.T, ns, space string) int64 {
	t.Helper()
	s := &corev1.Secret{}
	key := client.ObjectKey{Namespace: ns, Name: forumdeploy.AdminSecretName(space)}
	eventually(t, "the forum's admin Secret", func() (bool, string) {
		err := k8sClient.Get(context.Background(), key, s)
		return err == nil, fmt.Sprint(err)
	})
	uid := forumServer.SetupAdmin(string(s.Data[forumdeploy.AdminUsernameKey]), string(s.Data[forumdeploy.AdminPasswordKey]))
	markAvailable(t, client.ObjectKey{Namespace: ns, Name: forumdeploy.Name(space)})
	return uid
}

// adminSecret reads a deployed forum's admin Secret.
func adminSecret(t *testing.T, ns, space string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: forumdeploy.AdminSecretName(space)}, s); err != nil {
		t.Fatal(err)
	}
	return s
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
	if names := containerNames(pod.Containers); fmt.Sprint(names) != "[nodebb]" {
		t.Errorf("containers %v, want nodebb", names)
	}
	if names := containerNames(pod.InitContainers); fmt.Sprint(names) != "[redis setup]" {
		t.Errorf("init containers %v, want redis (a sidecar) before setup", names)
	}
	if pod.Containers[0].ReadinessProbe == nil || pod.Containers[0].LivenessProbe == nil || pod.Containers[0].StartupProbe == nil {
		t.Errorf("the forum container lacks probes")
	}
	if !metav1.IsControlledBy(dep, getSpace(t, space)) || dep.Labels[collabv1.SpaceLabel] != "docs" {
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
	// No person makes a token: the operator mints one with the admin password.
	minted := forumServer.MintedTokens()
	adminUID := startForum(t, ns, "docs")
	waitReady(t, client.ObjectKeyFromObject(space))
	if got := forumCondition(t, client.ObjectKeyFromObject(space)); got.Reason != "CategoriesReady" {
		t.Errorf("ForumReady reason %s, want CategoriesReady", got.Reason)
	}
	checkCategoriesInForum(t, getSpace(t, space), "docs", "docs")
	if adminPassword(t, ns) != password {
		t.Errorf("the admin password changed between passes")
	}
	if got := getSpace(t, space).Status.Forum.URL; got != "https://docs.forum.example.org" {
		t.Errorf("status.forum.url = %s, want the Ingress host", got)
	}
	// Recorded so that removing spec.forum finds the workloads under the
	// names of the engine that made them.
	if got := getSpace(t, space).Status.Forum.Engine; got != collabv1.ForumEngineNodeBB {
		t.Errorf("status.forum.engine = %q, want %q", got, collabv1.ForumEngineNodeBB)
	}
	secret := adminSecret(t, ns, "docs")
	token := string(secret.Data["token"])
	if token == "" || token == forumToken || string(secret.Data["uid"]) != fmt.Sprint(adminUID) || forumServer.MintedTokens() != minted+1 {
		t.Errorf("admin Secret holds token %q for uid %q (%d minted), want one minted token for the admin, uid %d",
			token, secret.Data["uid"], forumServer.MintedTokens()-minted, adminUID)
	}

	// An administrator deletes the operator's token in the forum: the next pass
	// mints a new one.
	forumServer.RevokeTokens()
	updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Spec.Description = "token revoked" }, false)
	eventually(t, "a new token", func() (bool, string) {
		got := string(adminSecret(t, ns, "docs").Data["token"])
		return got != "" && got != token, "still " + got
	})
	waitReady(t, client.ObjectKeyFromObject(space))
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
			startForum(t, ns, name)
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
// Categories are named after name, groups after groupPrefix.
func checkCategoriesInForum(t *testing.T, space *collabv1.CollaborationSpace, name, groupPrefix string) {
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
		membersPost := got.Privileges.Has(groupPrefix+"-members", "topics:create")
		if got.Name != cat.Name || membersPost != want[cat.Name] {
			t.Errorf("category %q: name %q, members may post = %v, want %v", cat.Name, got.Name, membersPost, want[cat.Name])
		}
		if !got.Privileges.Has(groupPrefix+"-owners", "topics:create") || !got.Privileges.Has(groupPrefix+"-owners", "moderate") {
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
	// In a shared forum, names carry the space's namespace and name.
	groups := nodebbplan.GroupNamesFor(space, true)
	checkCategoriesInForum(t, space, "shared", strings.TrimSuffix(groups.Owners, "-owners"))
	if want := "shared-" + nodebbplan.Digest(space) + "-owners"; groups.Owners != want {
		t.Errorf("owners group %s, want %s", groups.Owners, want)
	}
	if diff := cmp.Diff(groups.All(), space.Status.Forum.Groups); diff != "" {
		t.Errorf("status.forum.groups (-want +got):\n%s", diff)
	}

	parent, err := forumClient(t).ObserveCategory(ctx, space.Status.Forum.ParentCategoryID, 0, "")
	if want := "Shared Services (" + space.Namespace + "/shared)"; err != nil || parent == nil || parent.Name != want {
		t.Fatalf("department category %+v (%v), want one named %q, after the department and the space", parent, err, want)
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

// sharedForumBackend makes a ForumBackend on the suite's stand-in forum, with a
// credentials Secret of its own.
func sharedForumBackend(t *testing.T, name string) *collabv1.ForumBackend {
	t.Helper()
	ctx := testCtx(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-credentials", Namespace: "collab-system"},
		Data:       map[string][]byte{"token": []byte(forumToken), "uid": []byte("1")},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	backend := &collabv1.ForumBackend{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: collabv1.ForumBackendSpec{NodeBB: &collabv1.NodeBBBackend{
			URL: forumAPI, CredentialsSecretRef: collabv1.SecretReference{Namespace: "collab-system", Name: secret.Name},
		}},
	}
	if err := k8sClient.Create(ctx, backend); err != nil {
		t.Fatal(err)
	}
	return backend
}

// sharedSpace is a space in a shared forum with two categories; its members are
// forum users (created on the stand-in forum), owner first.
func sharedSpace(ns, name, department, backend string, owner, member string) *collabv1.CollaborationSpace {
	forumServer.AddUser(owner)
	forumServer.AddUser(member)
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: department,
			Members: []collabv1.Member{
				{Kind: collabv1.SubjectUser, Name: owner, Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectUser, Name: member},
			},
			Forum: &collabv1.ForumSpec{
				BackendRef: &collabv1.LocalObjectReference{Name: backend},
				Categories: []collabv1.Category{{Name: "Budget"}, {Name: "Announcements", Posting: collabv1.PostingOwners}},
			},
		},
	}
}

// forumView is what a user of a space would check on the forum: its department
// category and categories (name, parent, disabled, every group's privileges) and
// its groups (description and members), by id and name.
type forumView struct {
	Categories map[int64]string
	Groups     map[string]string
}

// viewOf reads, as the forum's administrator, what a space's status points at.
func viewOf(t *testing.T, space *collabv1.CollaborationSpace) forumView {
	t.Helper()
	ctx := testCtx(t)
	st := space.Status.Forum
	if st == nil || st.ParentCategoryID == 0 || len(st.Categories) == 0 || len(st.Groups) != 3 {
		t.Fatalf("status.forum of %s/%s = %+v, want a department category, categories and three groups", space.Namespace, space.Name, st)
	}
	v := forumView{Categories: map[int64]string{}, Groups: map[string]string{}}
	ids := []int64{st.ParentCategoryID}
	for _, c := range st.Categories {
		ids = append(ids, c.ID)
	}
	for _, id := range ids {
		c, err := forumClient(t).ObserveCategory(ctx, id, 0, "")
		if err != nil || c == nil || c.ID != id {
			t.Fatalf("category %d: %+v, %v", id, c, err)
		}
		v.Categories[id] = fmt.Sprintf("%q parent=%d disabled=%v privileges=%v", c.Name, c.ParentID, c.Disabled, c.Privileges)
	}
	for _, name := range st.Groups {
		g, err := forumClient(t).ObserveGroup(ctx, name)
		if err != nil || g == nil {
			t.Fatalf("group %s: %+v, %v", name, g, err)
		}
		v.Groups[name] = fmt.Sprintf("%q members=%v", g.Description, g.Members)
	}
	return v
}

// TestSharedForumKeepsTenantsApart: a space in another namespace with the same
// name and department as the victim's, authoritative and deleted with
// deletionPolicy Delete, gets groups and categories of its own and leaves the
// victim's department category, categories, groups and members as they were.
func TestSharedForumKeepsTenantsApart(t *testing.T) {
	ctx := testCtx(t)
	backend := sharedForumBackend(t, "tenants-forum")
	victim := sharedSpace(newNamespace(t), "finance", "Finance", backend.Name, "fin-owner", "fin-member")
	createSpace(t, victim)
	victim = waitReady(t, client.ObjectKeyFromObject(victim))
	before := viewOf(t, victim)

	attacker := sharedSpace(newNamespace(t), "finance", "Finance", backend.Name, "mallory", "mallory-friend")
	attacker.Spec.MemberPolicy = collabv1.MemberPolicyAuthoritative
	attacker.Spec.DeletionPolicy = collabv1.DeletionPolicyDelete
	createSpace(t, attacker)
	attacker = waitReady(t, client.ObjectKeyFromObject(attacker))
	mine := viewOf(t, attacker)

	// Distinct names and ids: nothing of the victim's is the attacker's.
	for id := range mine.Categories {
		if _, shared := before.Categories[id]; shared {
			t.Errorf("category %d is both the victim's and the attacker's", id)
		}
	}
	for name := range mine.Groups {
		if _, shared := before.Groups[name]; shared {
			t.Errorf("group %s is both the victim's and the attacker's", name)
		}
	}
	if got, want := attacker.Status.Forum.Groups, nodebbplan.GroupNamesFor(attacker, true).All(); !slices.Equal(got, want) {
		t.Errorf("attacker's groups %v, want %v", got, want)
	}
	if diff := cmp.Diff(before, viewOf(t, getSpace(t, victim))); diff != "" {
		t.Errorf("the attacker's space changed the victim's forum (-before +after):\n%s", diff)
	}

	if err := k8sClient.Delete(ctx, attacker); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the attacker's space to be gone", func() (bool, string) {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(attacker), &collabv1.CollaborationSpace{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	if diff := cmp.Diff(before, viewOf(t, getSpace(t, victim))); diff != "" {
		t.Errorf("deleting the attacker's space changed the victim's forum (-before +after):\n%s", diff)
	}
	// Delete did remove what was the attacker's own.
	for id := range mine.Categories {
		if c, err := forumClient(t).ObserveCategory(ctx, id, 0, ""); err != nil || c != nil {
			t.Errorf("attacker's category %d: %+v, %v; want it deleted", id, c, err)
		}
	}
	for name := range mine.Groups {
		if g, err := forumClient(t).ObserveGroup(ctx, name); err != nil || g != nil {
			t.Errorf("attacker's group %s: %+v, %v; want it deleted", name, g, err)
		}
	}
}

// updateSpace changes the space, or its status, retrying on write conflicts.
func updateSpace(t *testing.T, space *collabv1.CollaborationSpace, change func(*collabv1.CollaborationSpace), status bool) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s := &collabv1.CollaborationSpace{}
		if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(space), s); err != nil {
			return err
		}
		change(s)
		if status {
			return k8sClient.Status().Update(context.Background(), s)
		}
		return k8sClient.Update(context.Background(), s)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitForumConflict waits until the space is Stalled with ForumReady=False for a
// ForumConflict and returns the message.
func waitForumConflict(t *testing.T, key client.ObjectKey) string {
	t.Helper()
	var msg string
	eventually(t, "ForumReady=False ForumConflict and Stalled", func() (bool, string) {
		space := &collabv1.CollaborationSpace{}
		if err := k8sClient.Get(context.Background(), key, space); err != nil {
			return false, err.Error()
		}
		fr := meta.FindStatusCondition(space.Status.Conditions, collabv1.ForumReadyCondition)
		stalled := meta.FindStatusCondition(space.Status.Conditions, collabv1.StalledCondition)
		if fr != nil {
			msg = fr.Message
		}
		return fr != nil && fr.Status == metav1.ConditionFalse && fr.Reason == "ForumConflict" &&
			stalled != nil && stalled.Status == metav1.ConditionTrue, fmt.Sprintf("ForumReady=%v Stalled=%v", fr, stalled)
	})
	return msg
}

// TestSharedForumDoesNotAdoptAGroupItDidNotMake: a group that already holds a
// space's future group name, made by someone else (here with the description the
// operator used to write, but without its proof), is a conflict: never adopted,
// its members untouched even by an authoritative space. Once it is gone, a change
// to the space lets it converge.
func TestSharedForumDoesNotAdoptAGroupItDidNotMake(t *testing.T) {
	ctx := testCtx(t)
	backend := sharedForumBackend(t, "squatted-forum")
	space := sharedSpace(newNamespace(t), "payroll", "Payroll", backend.Name, "pay-owner", "pay-member")
	space.Spec.MemberPolicy = collabv1.MemberPolicyAuthoritative
	squatted := nodebbplan.GroupNamesFor(space, true).Owners
	forumServer.AddUser("squatter")
	fc := forumClient(t)
	if _, err := fc.CreateGroup(ctx, forum.GroupSpec{Name: squatted,
		Description: "Owners of Payroll. Kept by collab-operator for CollaborationSpace " + space.Namespace + "/payroll."}); err != nil {
		t.Fatal(err)
	}
	if err := fc.UpdateGroup(ctx, squatted, []forum.GroupAction{forum.AddMember{Username: "squatter"}}); err != nil {
		t.Fatal(err)
	}
	before, err := fc.ObserveGroup(ctx, squatted)
	if err != nil || before == nil {
		t.Fatal(before, err)
	}

	createSpace(t, space)
	msg := waitForumConflict(t, client.ObjectKeyFromObject(space))
	if !strings.Contains(msg, squatted) {
		t.Errorf("ForumReady message %q does not name the group in the way", msg)
	}
	after, err := fc.ObserveGroup(ctx, squatted)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the squatted group changed (-before +after):\n%s", diff)
	}
	if st := getSpace(t, space).Status.Forum; st != nil && len(st.Groups) > 0 {
		t.Errorf("status.forum.groups = %v, want none recorded", st.Groups)
	}

	// The group is removed and the space changed: it converges.
	if err := fc.DeleteGroup(ctx, squatted); err != nil {
		t.Fatal(err)
	}
	updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Spec.Description = "Salaries" }, false)
	waitReady(t, client.ObjectKeyFromObject(space))
	owners, err := fc.ObserveGroup(ctx, squatted)
	if err != nil || owners == nil || !owners.HasMember("pay-owner") || owners.HasMember("squatter") {
		t.Errorf("owners group after the conflict: %+v, %v", owners, err)
	}
}

// TestSharedForumIgnoresAForgedStatus: a status that points at another space's
// department category or categories (a forged status, or a backup restored into
// the wrong namespace) is a conflict: they are neither used nor retired, not even
// when the space is deleted with deletionPolicy Delete, and the message does not
// name the other space's namespace.
func TestSharedForumIgnoresAForgedStatus(t *testing.T) {
	backend := sharedForumBackend(t, "forged-forum")
	victim := sharedSpace(newNamespace(t), "ledger", "Ledger", backend.Name, "led-owner", "led-member")
	createSpace(t, victim)
	victim = waitReady(t, client.ObjectKeyFromObject(victim))
	before := viewOf(t, victim)
	vst := victim.Status.Forum

	cases := map[string]func(st *collabv1.ForumStatus){
		"another space's category under a name in the spec": func(st *collabv1.ForumStatus) {
			st.Categories[0].ID = vst.Categories[0].ID
		},
		"another space's category under a name no longer in the spec, to retire": func(st *collabv1.ForumStatus) {
			st.Categories = append(st.Categories, collabv1.CategoryStatus{Name: "Gone", ID: vst.Categories[1].ID})
		},
		"another space's department category": func(st *collabv1.ForumStatus) {
			st.ParentCategoryID = vst.ParentCategoryID
		},
	}
	i := 0
	for name, forge := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			space := sharedSpace(newNamespace(t), fmt.Sprintf("forger%d", i), "Ledger", backend.Name, "forger", "forger-friend")
			space.Spec.MemberPolicy = collabv1.MemberPolicyAuthoritative
			space.Spec.DeletionPolicy = collabv1.DeletionPolicyDelete
			createSpace(t, space)
			space = waitReady(t, client.ObjectKeyFromObject(space))

			updateSpace(t, space, func(s *collabv1.CollaborationSpace) { forge(s.Status.Forum) }, true)
			updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Spec.Description = "changed, to start a pass" }, false)
			msg := waitForumConflict(t, client.ObjectKeyFromObject(space))
			if strings.Contains(msg, victim.Namespace) {
				t.Errorf("ForumReady message %q names the victim's namespace", msg)
			}
			if diff := cmp.Diff(before, viewOf(t, getSpace(t, victim))); diff != "" {
				t.Errorf("the forged status changed the victim's forum (-before +after):\n%s", diff)
			}

			if err := k8sClient.Delete(ctx, space); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the space to be gone", func() (bool, string) {
				err := k8sClient.Get(ctx, client.ObjectKeyFromObject(space), &collabv1.CollaborationSpace{})
				return apierrors.IsNotFound(err), fmt.Sprint(err)
			})
			if diff := cmp.Diff(before, viewOf(t, getSpace(t, victim))); diff != "" {
				t.Errorf("deleting the space with a forged status changed the victim's forum (-before +after):\n%s", diff)
			}
		})
	}
}

// TestSharedForumRetiresItsLegacyGroups: releases before namespaced names called a
// space's groups "<name>-owners"…; those are never adopted. After the upgrade (a
// status without groups), the space's own categories take their privileges away
// from the old groups whose description names exactly this space, and from no
// other. The space's new groups, not recorded in that status, are re-found by the
// proof in their description, as after a crash between create and status write.
func TestSharedForumRetiresItsLegacyGroups(t *testing.T) {
	ctx := testCtx(t)
	backend := sharedForumBackend(t, "legacy-forum")
	space := sharedSpace(newNamespace(t), "archive", "Archive", backend.Name, "arc-owner", "arc-member")
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	groups := space.Status.Forum.Groups
	budget := space.Status.Forum.Categories[0].ID
	fc := forumClient(t)
	legacy := nodebbplan.LegacyGroupNames(space)
	for name, ns := range map[string]string{legacy.Owners: space.Namespace, legacy.Members: "elsewhere"} {
		if _, err := fc.CreateGroup(ctx, forum.GroupSpec{Name: name,
			Description: "Owners of Archive. Kept by collab-operator for CollaborationSpace " + ns + "/archive."}); err != nil {
			t.Fatal(err)
		}
		if err := fc.UpdateCategory(ctx, budget, []forum.CategoryAction{
			forum.Grant{Group: name, Privilege: forum.PrivRead}, forum.Grant{Group: name, Privilege: forum.PrivTopicsCreate},
		}); err != nil {
			t.Fatal(err)
		}
	}

	updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Status.Forum.Groups = nil }, true)
	updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Spec.Description = "after the upgrade" }, false)
	space = waitReady(t, client.ObjectKeyFromObject(space))

	got, err := fc.ObserveCategory(ctx, budget, 0, "")
	if err != nil || got == nil {
		t.Fatal(got, err)
	}
	if p := got.Privileges[legacy.Owners]; len(p) != 0 {
		t.Errorf("the old owners group of this space keeps %v in its category", p)
	}
	if !got.Privileges.Has(legacy.Members, forum.PrivRead) || !got.Privileges.Has(legacy.Members, forum.PrivTopicsCreate) {
		t.Errorf("an old group that names another space lost its privileges: %v", got.Privileges[legacy.Members])
	}
	if !slices.Equal(space.Status.Forum.Groups, groups) {
		t.Errorf("status.forum.groups = %v, want the proven groups %v again", space.Status.Forum.Groups, groups)
	}
	for _, name := range []string{legacy.Owners, legacy.Members} {
		if g, err := fc.ObserveGroup(ctx, name); err != nil || g == nil {
			t.Errorf("old group %s: %+v, %v; want it left in place", name, g, err)
		}
	}
}

// TestMembersWithoutAForumAccountAreNotDrift: a member who never logged in to the
// forum cannot be added to a group. That is no drift and no change: passes over
// the unchanged space emit no event, count no drift correction and write
// nothing; the condition message counts them. Once the person has an account,
// a pass adds them.
func TestMembersWithoutAForumAccountAreNotDrift(t *testing.T) {
	ctx := testCtx(t)
	backend := sharedForumBackend(t, "newcomers-forum")
	space := sharedSpace(newNamespace(t), "newcomers", "Newcomers", backend.Name, "new-owner", "new-member")
	space.Spec.Members = append(space.Spec.Members,
		collabv1.Member{Kind: collabv1.SubjectUser, Name: "not-yet-b"},
		collabv1.Member{Kind: collabv1.SubjectUser, Name: "not-yet-a", Role: collabv1.RoleModerator})
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	want := "2 members have no forum account yet and join at their first login: not-yet-a, not-yet-b"
	if c := forumCondition(t, client.ObjectKeyFromObject(space)); !strings.Contains(c.Message, want) {
		t.Errorf("ForumReady message %q, want it to say %q", c.Message, want)
	}

	direct, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	recorder := events.NewFakeRecorder(20)
	var forumWrites atomic.Int64
	r := &spacepass.Pass{
		Client: direct, APIReader: direct, Scheme: testenv.Scheme(), Recorder: recorder,
		Forum: forumphase.Settings{OperatorNamespace: operatorNamespace},
		Forums: forum.Engines{&nodebb.Connector{Observer: func(method, _ string, _ int, _ time.Duration) {
			if method != http.MethodGet {
				forumWrites.Add(1)
			}
		}}},
	}
	drift := func() float64 {
		return testutil.ToFloat64(metrics.DriftCorrections.WithLabelValues("ForumBackend/"+backend.Name, "forum", "members"))
	}
	before := drift()
	for pass := 1; pass <= 3; pass++ {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(space)}); err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
	}
	if n := len(recorder.Events); n != 0 {
		t.Errorf("passes over an unchanged space emitted %d events, first: %s", n, <-recorder.Events)
	}
	if n := forumWrites.Load(); n != 0 {
		t.Errorf("passes over an unchanged space made %d forum writes", n)
	}
	if got := drift(); got != before {
		t.Errorf("drift corrections of members went from %v to %v", before, got)
	}
	if c := meta.FindStatusCondition(getSpace(t, space).Status.Conditions, collabv1.DriftedCondition); c != nil && c.Status == metav1.ConditionTrue {
		t.Errorf("Drifted = %+v, want not True", c)
	}

	// not-yet-a logs in once: the next pass adds them.
	forumServer.AddUser("not-yet-a")
	updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Spec.Description = "after a first login" }, false)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	want = "1 member has no forum account yet and joins at their first login: not-yet-b"
	if c := forumCondition(t, client.ObjectKeyFromObject(space)); !strings.Contains(c.Message, want) {
		t.Errorf("ForumReady message %q, want it to say %q", c.Message, want)
	}
	mods, err := forumClient(t).ObserveGroup(ctx, nodebbplan.GroupNamesFor(space, true).Moderators)
	if err != nil || mods == nil || !mods.HasMember("not-yet-a") {
		t.Errorf("moderators group %+v (%v), want not-yet-a in it", mods, err)
	}
}

// TestRemovingTheForumAppliesTheDeletionPolicy: a space that stops listing
// spec.forum has its deletionPolicy carried out on the forum, as deleting the
// space would: Archive disables a deployed forum's categories, keeps its volume,
// its admin Secret and a stopped Deployment, and removes the rest; Delete
// removes a shared forum's categories and groups.
func TestRemovingTheForumAppliesTheDeletionPolicy(t *testing.T) {
	gone := func(t *testing.T, obj client.Object) bool {
		err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err) || (err == nil && !obj.GetDeletionTimestamp().IsZero())
	}
	forgotten := func(t *testing.T, space *collabv1.CollaborationSpace) *collabv1.CollaborationSpace {
		t.Helper()
		updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Spec.Forum = nil }, false)
		got := waitReady(t, client.ObjectKeyFromObject(space))
		if got.Status.Forum != nil || meta.FindStatusCondition(got.Status.Conditions, collabv1.ForumReadyCondition) != nil {
			t.Errorf("status.forum = %+v, ForumReady = %v; want both gone", got.Status.Forum,
				meta.FindStatusCondition(got.Status.Conditions, collabv1.ForumReadyCondition))
		}
		return got
	}

	t.Run("a deployed forum under Archive", func(t *testing.T) {
		ctx := testCtx(t)
		ns := newNamespace(t)
		space := forumSpace(ns, "stopped")
		space.Spec.Forum.Deploy.Ingress = nil
		createSpace(t, space)
		startForum(t, ns, "stopped")
		categories := waitReady(t, client.ObjectKeyFromObject(space)).Status.Forum.Categories
		forgotten(t, space)
		for _, cat := range categories {
			got, err := forumClient(t).ObserveCategory(ctx, cat.ID, 0, "")
			if err != nil || got == nil || !got.Disabled {
				t.Errorf("category %q: %+v, %v; want it kept, disabled", cat.Name, got, err)
			}
		}
		name := forumdeploy.Name("stopped")
		for _, obj := range []client.Object{
			&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.VolumeName("stopped"), Namespace: ns}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.AdminSecretName("stopped"), Namespace: ns}},
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}},
		} {
			if gone(t, obj) || len(obj.GetOwnerReferences()) != 0 {
				t.Errorf("%T %s: gone=%v owners=%v; want it kept and let go", obj, obj.GetName(), gone(t, obj), obj.GetOwnerReferences())
			}
		}
		dep := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, dep); err == nil && *dep.Spec.Replicas != 0 {
			t.Errorf("kept Deployment has %d replicas, want 0", *dep.Spec.Replicas)
		}
		for _, obj := range []client.Object{
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}},
			&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}},
		} {
			if !gone(t, obj) {
				t.Errorf("%T %s was kept; Archive removes what holds no data", obj, name)
			}
		}
	})

	t.Run("a shared forum under Delete", func(t *testing.T) {
		ctx := testCtx(t)
		backend := sharedForumBackend(t, "removal-forum")
		space := sharedSpace(newNamespace(t), "leaving", "Leaving", backend.Name, "leave-owner", "leave-member")
		space.Spec.DeletionPolicy = collabv1.DeletionPolicyDelete
		createSpace(t, space)
		view := viewOf(t, waitReady(t, client.ObjectKeyFromObject(space)))
		forgotten(t, space)
		for id := range view.Categories {
			if c, err := forumClient(t).ObserveCategory(ctx, id, 0, ""); err != nil || c != nil {
				t.Errorf("category %d: %+v, %v; want it deleted", id, c, err)
			}
		}
		for name := range view.Groups {
			if g, err := forumClient(t).ObserveGroup(ctx, name); err != nil || g != nil {
				t.Errorf("group %s: %+v, %v; want it deleted", name, g, err)
			}
		}
	})
}

// TestSharedForumAdoptsItsLegacyDepartmentCategory: releases before namespaced
// names named a space's department category after the department alone. After
// the upgrade the operator takes it over (renames it) when the space's status
// records it and no other space on the forum does; when another space records
// the same id, the name says nothing about whose it is, and both stay in
// conflict, the category untouched.
func TestSharedForumAdoptsItsLegacyDepartmentCategory(t *testing.T) {
	legacy := func(t *testing.T, space *collabv1.CollaborationSpace) int64 {
		t.Helper()
		id := space.Status.Forum.ParentCategoryID
		if err := forumClient(t).UpdateCategory(testCtx(t), id, []forum.CategoryAction{forum.SetName{Name: space.Spec.Department}}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	nameOf := func(t *testing.T, id int64) string {
		t.Helper()
		c, err := forumClient(t).ObserveCategory(testCtx(t), id, 0, "")
		if err != nil || c == nil {
			t.Fatalf("category %d: %+v, %v", id, c, err)
		}
		return c.Name
	}

	t.Run("recorded by this space alone: adopted", func(t *testing.T) {
		backend := sharedForumBackend(t, "upgrade-forum")
		space := sharedSpace(newNamespace(t), "travel", "Travel", backend.Name, "trv-owner", "trv-member")
		createSpace(t, space)
		space = waitReady(t, client.ObjectKeyFromObject(space))
		before := viewOf(t, space)
		id := legacy(t, space)
		updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Spec.Description = "after the upgrade" }, false)
		space = waitReady(t, client.ObjectKeyFromObject(space))
		if got, want := nameOf(t, id), nodebbplan.DepartmentCategoryName(space); got != want {
			t.Errorf("department category %d is named %q, want %q", id, got, want)
		}
		if diff := cmp.Diff(before, viewOf(t, space)); diff != "" {
			t.Errorf("the space's forum after the adoption (-before +after):\n%s", diff)
		}
	})

	t.Run("recorded by another space too: a conflict", func(t *testing.T) {
		backend := sharedForumBackend(t, "contested-forum")
		owner := sharedSpace(newNamespace(t), "audit", "Audit", backend.Name, "aud-owner", "aud-member")
		createSpace(t, owner)
		owner = waitReady(t, client.ObjectKeyFromObject(owner))
		other := sharedSpace(newNamespace(t), "audit", "Audit", backend.Name, "aud2-owner", "aud2-member")
		createSpace(t, other)
		other = waitReady(t, client.ObjectKeyFromObject(other))
		// The other space's status names the owner's department category too (a
		// restored backup, or a forged status).
		id := owner.Status.Forum.ParentCategoryID
		updateSpace(t, other, func(s *collabv1.CollaborationSpace) { s.Status.Forum.ParentCategoryID = id }, true)
		legacy(t, owner)
		for _, space := range []*collabv1.CollaborationSpace{other, owner} {
			updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Spec.Description = "after the upgrade" }, false)
			msg := waitForumConflict(t, client.ObjectKeyFromObject(space))
			if !strings.Contains(msg, fmt.Sprint(id)) {
				t.Errorf("%s/%s: ForumReady message %q does not name category %d", space.Namespace, space.Name, msg, id)
			}
		}
		if got := nameOf(t, id); got != "Audit" {
			t.Errorf("the contested category was renamed to %q", got)
		}
	})
}

// TestSharedForumDoesNotAdoptACopiedGroup attacks the group proof: the proof in a
// group's description is public, so after a space's group is deleted, a forum user
// allowed to create groups re-creates it under the same name with the copied
// description, and owns it. The operator must not adopt that group, neither while
// status records the name nor once status lost it: ForumReady=False ForumConflict
// naming the group, and the attacker's group untouched (no member added to it).
func TestSharedForumDoesNotAdoptACopiedGroup(t *testing.T) {
	ctx := testCtx(t)
	backend := sharedForumBackend(t, "copied-forum")
	space := sharedSpace(newNamespace(t), "treasury", "Treasury", backend.Name, "tre-owner", "tre-member")
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	name := nodebbplan.GroupNamesFor(space, true).Owners
	fc := forumClient(t)
	mine, err := fc.ObserveGroup(ctx, name)
	if err != nil || mine == nil {
		t.Fatal(mine, err)
	}

	// The group is deleted (by a forum administrator, say), and the attacker
	// re-creates it with the public description, proof included.
	if err := fc.DeleteGroup(ctx, name); err != nil {
		t.Fatal(err)
	}
	attacker := forumServer.AddUser("copycat")
	forumServer.AllowGroupCreation(attacker)
	ac, err := nodebb.New(nodebb.Config{URL: forumAPI, Token: forumToken, UID: attacker})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ac.CreateGroup(ctx, forum.GroupSpec{Name: name, Description: mine.Description}); err != nil {
		t.Fatal(err)
	}
	before, err := fc.ObserveGroup(ctx, name)
	if err != nil || before == nil {
		t.Fatal(before, err)
	}

	for _, lost := range []bool{false, true} {
		if lost {
			updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Status.Forum.Groups = nil }, true)
		}
		updateSpace(t, space, func(s *collabv1.CollaborationSpace) {
			s.Spec.Description = fmt.Sprintf("a pass, status lost: %v", lost)
		}, false)
		gen := getSpace(t, space).Generation
		var msg string
		eventually(t, "ForumReady=False ForumConflict at the new generation", func() (bool, string) {
			fr := meta.FindStatusCondition(getSpace(t, space).Status.Conditions, collabv1.ForumReadyCondition)
			if fr == nil {
				return false, "no ForumReady"
			}
			msg = fr.Message
			return fr.ObservedGeneration >= gen && fr.Status == metav1.ConditionFalse && fr.Reason == "ForumConflict",
				fmt.Sprintf("%s %s (generation %d): %s", fr.Status, fr.Reason, fr.ObservedGeneration, fr.Message)
		})
		if !strings.Contains(msg, name) || !strings.Contains(msg, "not one of its owners") {
			t.Errorf("status lost %v: ForumReady message %q does not say the operator does not own the group", lost, msg)
		}
		waitEvent(t, space, "ForumConflict", name)
		after, err := fc.ObserveGroup(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("status lost %v: the copied group changed (-before +after):\n%s", lost, diff)
		}
	}

	// Deleting the space under deletionPolicy Delete, with the name back in
	// status, deletes its own groups but not the attacker's.
	updateSpace(t, space, func(s *collabv1.CollaborationSpace) {
		s.Status.Forum.Groups = nodebbplan.GroupNamesFor(space, true).All()
	}, true)
	updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Spec.DeletionPolicy = collabv1.DeletionPolicyDelete }, false)
	if err := k8sClient.Delete(ctx, space); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the space to be gone", func() (bool, string) {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(space), &collabv1.CollaborationSpace{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	if after, err := fc.ObserveGroup(ctx, name); err != nil || cmp.Diff(before, after) != "" {
		t.Errorf("deleting the space touched the copied group: %+v, %v", after, err)
	}
	if g, err := fc.ObserveGroup(ctx, nodebbplan.GroupNamesFor(space, true).Members); err != nil || g != nil {
		t.Errorf("the space's own members group after deleting it: %+v, %v; want it deleted", g, err)
	}
}
