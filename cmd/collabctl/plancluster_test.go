package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	forumdeploy "github.com/opencommons/collab-operator/internal/forum/nodebb/deploy"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// The plan tests run against one real kube-apiserver, started by the first test
// that needs it and stopped by TestMain.
var (
	clusterOnce sync.Once
	clusterEnv  *envtest.Environment
	clusterCfg  *rest.Config
	clusterErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if clusterEnv != nil {
		_ = clusterEnv.Stop()
	}
	os.Exit(code)
}

// planCluster returns the test API server's admin client and a kubeconfig file
// for it.
func planCluster(t *testing.T) (client.Client, string) {
	t.Helper()
	clusterOnce.Do(func() {
		clusterEnv, clusterCfg, clusterErr = testenv.Start()
	})
	if clusterErr != nil {
		t.Fatalf("cannot start the API server: %v", clusterErr)
	}
	c, err := client.New(clusterCfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	user, err := clusterEnv.AddUser(envtest.User{Name: "planner-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return c, path
}

// fakeHomeserver answers the reads a plan makes of a Matrix homeserver that holds
// no room: every alias is unknown. It counts the writes it is sent.
type fakeHomeserver struct {
	*httptest.Server
	mu     sync.Mutex
	writes []string
}

func startFakeHomeserver(t *testing.T) *fakeHomeserver {
	t.Helper()
	h := &fakeHomeserver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodGet {
			h.mu.Lock()
			h.writes = append(h.writes, r.Method+" "+r.URL.Path)
			h.mu.Unlock()
		}
		switch r.URL.Path {
		case "/_matrix/client/v3/account/whoami":
			_ = json.NewEncoder(w).Encode(map[string]string{"user_id": "@collab-operator:example.org"})
		case "/_matrix/client/versions":
			_ = json.NewEncoder(w).Encode(map[string][]string{"versions": {"v1.11"}})
		default:
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"errcode": "M_NOT_FOUND", "error": "not found"})
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *fakeHomeserver) writesSent() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.writes...)
}

const operatorNamespace = "collab-operator-system"

// chatBackendAt makes a ChatBackend (and its credentials Secret) for the
// homeserver at url.
func chatBackendAt(t *testing.T, c client.Client, name, url string) {
	t.Helper()
	ctx := context.Background()
	ensureNamespace(t, c, operatorNamespace)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-credentials", Namespace: operatorNamespace},
		StringData: map[string]string{"accessToken": "token-" + name}}
	backend := &collabv1.ChatBackend{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: collabv1.ChatBackendSpec{Matrix: &collabv1.MatrixBackend{HomeserverURL: url, ServerName: "example.org",
			CredentialsSecretRef: collabv1.SecretReference{Namespace: operatorNamespace, Name: secret.Name}}}}
	for _, o := range []client.Object{secret, backend} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}

func ensureNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
}

// writePRFiles writes the pull request's manifests into a directory.
func writePRFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// linesWith returns stdout's lines that hold every one of words.
func linesWith(out string, words ...string) []string {
	var got []string
next:
	for _, l := range strings.Split(out, "\n") {
		for _, w := range words {
			if !strings.Contains(l, w) {
				continue next
			}
		}
		got = append(got, strings.TrimSpace(l))
	}
	return got
}

// changeLines returns stdout's change lines of backend and verb that hold every
// one of words (a line: "+ forum      create       category ...").
func changeLines(out, backend, verb string, words ...string) []string {
	var got []string
	for _, l := range linesWith(out, words...) {
		if f := strings.Fields(l); len(f) > 3 && f[1] == backend && f[2] == verb {
			got = append(got, l)
		}
	}
	return got
}

// TestPlanANewDepartment is a department's first pull request: its Namespace and
// its space, with rooms and a deployed forum. Nothing of it is in the cluster yet,
// so the plan is the creation of everything the operator would make.
func TestPlanANewDepartment(t *testing.T) {
	c, kubeconfig := planCluster(t)
	hs := startFakeHomeserver(t)
	chatBackendAt(t, c, "matrix-newdept", hs.URL)
	dir := writePRFiles(t, map[string]string{"finance.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: dept-finance}
---
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: finance, namespace: dept-finance}
spec:
  department: Finance
  members:
  - {kind: User, name: fiona, role: Owner}
  - {kind: User, name: frank}
  chat:
    backendRef: {name: matrix-newdept}
    rooms: [{name: general}, {name: budgets}]
  forum:
    deploy: {engine: nodebb, storage: {size: 1Gi}, store: {type: Redis}}
    categories: [{name: Budgets}, {name: Audits}]
`})
	r := collabctl(t, "collabctl", "", "plan", "--kubeconfig", kubeconfig, "--operator-namespace", operatorNamespace, dir)
	t.Logf("plan:\n%s", r.stdout)
	if r.code != exitChanges {
		t.Errorf("exit %d, want %d (changes pending)\nstdout:\n%s\nstderr:\n%s", r.code, exitChanges, r.stdout, r.stderr)
	}
	for _, want := range [][]string{
		{"create", "CollaborationSpace dept-finance/finance"},
		{"create", "RoleBinding dept-finance/"},
		{"create", "#dept-finance.finance:example.org"},
		{"create", "general", "offered in its space to", "@frank:example.org"},
		{"create", "budgets"},
		{"create", "Deployment dept-finance/finance-forum"},
		{"create", "Service dept-finance/finance-forum"},
		{"create", `category "Budgets" on forum dept-finance/finance`},
		{"create", `category "Audits" on forum dept-finance/finance`},
		{"create", `group `, "on forum dept-finance/finance"},
		{"grant", `category "Budgets (new)" on forum dept-finance/finance`, "members {"},
	} {
		if len(linesWith(r.stdout, want...)) == 0 {
			t.Errorf("the plan has no line with %q\n%s", want, r.stdout)
		}
	}
	for _, bad := range []string{"no changes", "error:", "cannot tell"} {
		if strings.Contains(r.stdout, bad) {
			t.Errorf("the plan says %q:\n%s", bad, r.stdout)
		}
	}
	if w := hs.writesSent(); len(w) != 0 {
		t.Errorf("the plan wrote to the homeserver: %v", w)
	}
	ns := &corev1.Namespace{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: "dept-finance"}, ns); err == nil {
		t.Errorf("the plan created the Namespace")
	}

	// What the pull request's comment shows of it.
	md := collabctl(t, "collabctl", "", "plan", "-o", "markdown", "--kubeconfig", kubeconfig, "--operator-namespace", operatorNamespace, dir)
	if md.code != exitChanges {
		t.Errorf("-o markdown: exit %d, want %d", md.code, exitChanges)
	}
	for _, want := range []string{
		"#### `dept-finance/finance` (new)",
		"| chat | 3 create, 2 link |",
		"**People:** 4 invited, 0 removed",
		"- Invited: @fiona:example.org, @frank:example.org, fiona, frank",
		"> The forum is not running yet",
	} {
		if !strings.Contains(md.stdout, want) {
			t.Errorf("-o markdown does not show %q:\n%s", want, md.stdout)
		}
	}
}

// TestPlanANewBackend: a ChatBackend only the files hold has nothing of the
// operator's on it, so its rooms plan as creations without asking any server.
func TestPlanANewBackend(t *testing.T) {
	_, kubeconfig := planCluster(t)
	dir := writePRFiles(t, map[string]string{"ops.yaml": `apiVersion: collab.opencommons.io/v1alpha1
kind: ChatBackend
metadata: {name: matrix-brand-new}
spec:
  matrix:
    homeserverURL: https://127.0.0.1:1
    serverName: new.example.org
    credentialsSecretRef: {namespace: collab-operator-system, name: not-there-yet}
---
apiVersion: v1
kind: Namespace
metadata: {name: dept-ops}
---
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: ops, namespace: dept-ops}
spec:
  department: Ops
  members: [{kind: User, name: olga, role: Owner}]
  chat:
    backendRef: {name: matrix-brand-new}
    rooms: [{name: oncall}]
`})
	r := collabctl(t, "collabctl", "", "plan", "--kubeconfig", kubeconfig, "--operator-namespace", operatorNamespace, dir)
	if r.code != exitChanges {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitChanges, r.stdout, r.stderr)
	}
	if len(linesWith(r.stdout, "create", "oncall", "new.example.org")) == 0 {
		t.Errorf("the plan does not create the room:\n%s", r.stdout)
	}
}

// TestPlanAnUnreachableBackend: what is on a chat server the plan cannot reach is
// unknown, and the exit code says so.
func TestPlanAnUnreachableBackend(t *testing.T) {
	c, kubeconfig := planCluster(t)
	chatBackendAt(t, c, "matrix-down", "http://127.0.0.1:1")
	ensureNamespace(t, c, "dept-down")
	dir := writePRFiles(t, map[string]string{"down.yaml": `apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: down, namespace: dept-down}
spec:
  department: Down
  members: [{kind: User, name: dora, role: Owner}]
  chat:
    backendRef: {name: matrix-down}
    rooms: [{name: general}]
`})
	for _, args := range [][]string{{}, {"--exit-code"}} {
		r := collabctl(t, "collabctl", "", append([]string{"plan", "--kubeconfig", kubeconfig,
			"--operator-namespace", operatorNamespace, dir}, args...)...)
		if r.code != exitUnknown {
			t.Errorf("%v: exit %d, want %d (cannot tell)\nstdout:\n%s\nstderr:\n%s", args, r.code, exitUnknown, r.stdout, r.stderr)
		}
		if len(linesWith(r.stdout, "cannot tell:", "matrix-down")) == 0 {
			t.Errorf("the plan does not say what it cannot tell:\n%s", r.stdout)
		}
	}
}

// deployedForumSpace is a space in namespace ns with a deployed forum, three
// categories and two members.
func deployedForumSpace(ns, name string) string {
	return fmt.Sprintf(`apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: %s, namespace: %s}
spec:
  department: Engineering
  members:
  - {kind: User, name: erin, role: Owner}
  - {kind: User, name: eve, role: Moderator}
  - {kind: User, name: ed}
  forum:
    deploy: {engine: nodebb, storage: {size: 1Gi}, store: {type: Redis}}
    categories: [{name: RFCs}, {name: Incidents}, {name: Announcements, posting: Owners}]
`, name, ns)
}

// runningForum makes what the operator would have made of a deployed forum whose
// pod runs: its admin Secret (with token, when given) and an Available Deployment.
func runningForum(t *testing.T, c client.Client, ns, name, token string) {
	t.Helper()
	ctx := context.Background()
	data := map[string]string{forumdeploy.AdminUsernameKey: "admin", forumdeploy.AdminPasswordKey: "pw"}
	if token != "" {
		data["token"], data["uid"] = token, fmt.Sprint(fake.AdminUID)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.AdminSecretName(name), Namespace: ns}, StringData: data}
	if err := c.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	space := &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: collabv1.CollaborationSpaceSpec{Forum: &collabv1.ForumSpec{Deploy: &collabv1.ForumDeploy{}}}}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.Name(name), Namespace: ns},
		Spec: forumdeploy.Deployment(space, 1)}
	if err := c.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
			LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now(), Reason: "MinimumReplicasAvailable"}}}
	if err := c.Status().Update(ctx, dep); err != nil {
		t.Fatal(err)
	}
}

// TestPlanADeployedForumThatIsNotThereYet: a forum whose pod runs where the plan
// cannot reach it, and that the operator has set nothing up on, plans as the
// creation of its groups and categories, not as "no changes".
func TestPlanADeployedForumThatIsNotThereYet(t *testing.T) {
	c, kubeconfig := planCluster(t)
	ensureNamespace(t, c, "dept-forum-new")
	runningForum(t, c, "dept-forum-new", "eng", "")
	dir := writePRFiles(t, map[string]string{"eng.yaml": deployedForumSpace("dept-forum-new", "eng")})
	r := collabctl(t, "collabctl", "", "plan", "--kubeconfig", kubeconfig, "--operator-namespace", operatorNamespace,
		"--forum-endpoint-override", "http://127.0.0.1:1", "--exit-code", dir)
	if r.code != exitChanges {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitChanges, r.stdout, r.stderr)
	}
	if got := changeLines(r.stdout, "forum", "create", "category", "on forum dept-forum-new/eng"); len(got) != 3 {
		t.Errorf("the plan creates %d categories, want 3:\n%s", len(got), r.stdout)
	}
	if got := changeLines(r.stdout, "forum", "create", "group", "on forum dept-forum-new/eng"); len(got) != 3 {
		t.Errorf("the plan creates %d groups, want 3 (owners, moderators, members):\n%s", len(got), r.stdout)
	}
	if !strings.Contains(r.stdout, "not running yet") {
		t.Errorf("the plan does not say the forum is not running yet:\n%s", r.stdout)
	}
}

// TestPlanSumsUpPrivilegeGrants: on a forum the plan reaches, a new category's
// privileges are one line per group, and the forum is named by its space.
func TestPlanSumsUpPrivilegeGrants(t *testing.T) {
	c, kubeconfig := planCluster(t)
	srv := fake.NewServer("master-token")
	api := httptest.NewServer(srv.Handler())
	t.Cleanup(api.Close)
	ensureNamespace(t, c, "dept-forum-grants")
	runningForum(t, c, "dept-forum-grants", "eng", "master-token")
	dir := writePRFiles(t, map[string]string{"eng.yaml": deployedForumSpace("dept-forum-grants", "eng")})
	r := collabctl(t, "collabctl", "", "plan", "--kubeconfig", kubeconfig, "--operator-namespace", operatorNamespace,
		"--forum-endpoint-override", api.URL, dir)
	if r.code != exitChanges {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitChanges, r.stdout, r.stderr)
	}
	if got := linesWith(r.stdout, " forum ", forumdeploy.AdminSecretName("eng")); len(got) > 0 {
		t.Errorf("the plan names the forum by its admin Secret: %q", got)
	}
	if got := changeLines(r.stdout, "forum", "create", "category", "on forum dept-forum-grants/eng"); len(got) != 3 {
		t.Errorf("the plan creates %d categories, want 3:\n%s", len(got), r.stdout)
	}
	grants := changeLines(r.stdout, "forum", "grant")
	if len(grants) != 9 {
		t.Errorf("the plan has %d grant lines, want 9: one per category (3) and group (3)\n%s", len(grants), r.stdout)
	}
	seen := map[string]bool{}
	for _, g := range grants {
		// "~ forum grant category "RFCs" on forum ns/eng: group {read, ...}"
		target, detail, _ := strings.Cut(g, ": ")
		group, _, _ := strings.Cut(detail, " {")
		key := target + "|" + group
		if seen[key] {
			t.Errorf("two grant lines for one category and group: %s", key)
		}
		seen[key] = true
		if !strings.Contains(g, "on forum dept-forum-grants/eng") || !strings.Contains(detail, "{") {
			t.Errorf("grant line %q does not name the forum by its space or list the privileges", g)
		}
	}
}

// TestPlanWithTheCIRole plans as CI does: with a ServiceAccount bound to the
// collab-plan ClusterRole of config/rbac and nothing else. The plan is made (the
// role is enough), what it would need a Secret to see is said as unknown, and
// the account cannot read a Secret.
func TestPlanWithTheCIRole(t *testing.T) {
	c, _ := planCluster(t)
	ctx := context.Background()
	hs := startFakeHomeserver(t)
	chatBackendAt(t, c, "matrix-ci", hs.URL)
	ensureNamespace(t, c, "dept-ci")
	kubeconfig, restCfg := ciKubeconfig(t, c)

	err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "not-for-ci", Namespace: "dept-ci"},
		StringData: map[string]string{"password": "hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	ci, err := client.New(restCfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	if err := ci.Get(ctx, client.ObjectKey{Namespace: "dept-ci", Name: "not-for-ci"}, &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Errorf("the CI account reads a Secret: got %v, want Forbidden", err)
	}
	if err := ci.List(ctx, &corev1.SecretList{}, client.InNamespace(operatorNamespace)); !apierrors.IsForbidden(err) {
		t.Errorf("the CI account lists Secrets: got %v, want Forbidden", err)
	}

	dir := writePRFiles(t, map[string]string{"ci.yaml": `apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: people-only, namespace: dept-ci}
spec:
  department: CI
  members: [{kind: User, name: carla, role: Owner}, {kind: User, name: cid}]
---
apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: chatty, namespace: dept-ci}
spec:
  department: CI Chat
  members: [{kind: User, name: carla, role: Owner}]
  chat:
    backendRef: {name: matrix-ci}
    rooms: [{name: general}]
`})
	r := collabctl(t, "collabctl", "", "plan", "--kubeconfig", kubeconfig, "--operator-namespace", operatorNamespace, dir)
	t.Logf("plan:\n%s", r.stdout)
	if r.code != exitUnknown {
		t.Errorf("exit %d, want %d (the chat server's rooms cannot be checked without the credentials)\nstdout:\n%s\nstderr:\n%s",
			r.code, exitUnknown, r.stdout, r.stderr)
	}
	if strings.Contains(strings.ToLower(r.stdout+r.stderr), "forbidden") {
		t.Errorf("the collab-plan role is not enough:\n%s\n%s", r.stdout, r.stderr)
	}
	for _, want := range [][]string{
		{"create", "RoleBinding dept-ci/", "User cid"},
		{"create", "#dept-ci.chatty.general:example.org"},
		{"cannot tell:", "ChatBackend matrix-ci", "credentials Secret"},
	} {
		if len(linesWith(r.stdout, want...)) == 0 {
			t.Errorf("the plan has no line with %q:\n%s", want, r.stdout)
		}
	}
	if w := hs.writesSent(); len(w) != 0 {
		t.Errorf("the plan wrote to the homeserver: %v", w)
	}
}

// ciKubeconfig makes a ServiceAccount bound to config/rbac's collab-plan role and
// returns a kubeconfig file and rest config that act as it, with a token from the
// TokenRequest API.
func ciKubeconfig(t *testing.T, c client.Client) (string, *rest.Config) {
	t.Helper()
	ctx := context.Background()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "config", "rbac", "plan_role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(raw, role); err != nil {
		t.Fatal(err)
	}
	ensureNamespace(t, c, "ci")
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "collab-plan", Namespace: "ci"}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "ci-collab-plan"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: sa.Namespace}}}
	for _, o := range []client.Object{role, sa, binding} {
		if err := c.Create(ctx, o); client.IgnoreAlreadyExists(err) != nil {
			t.Fatal(err)
		}
	}
	cs, err := kubernetes.NewForConfig(clusterCfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cs.CoreV1().ServiceAccounts(sa.Namespace).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(clusterCfg)
	cfg.BearerToken = tok.Status.Token
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["ci"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts["ci"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "ci", Namespace: "dept-ci"}
	kc.CurrentContext = "ci"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path, cfg
}
