// Package uninstall is the uninstall drill: spaces Ready on a real kube-apiserver,
// with the admission policies installed, Dendrite and the NodeBB stand-in; every CRD
// is deleted, as `make uninstall` does; every room keeps its name, join rule and
// alias, and no category is disabled; then the CRDs, the backends, the policy and
// the same spaces are applied again to a new manager, which adopts the same rooms
// and categories without creating any.
//
// Deleting a CRD takes it from every test of the API server, so the drill has a
// package, and an API server, of its own.
package uninstall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	forumdeploy "github.com/opencommons/collab-operator/internal/forum/nodebb/deploy"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/harness"
	"github.com/opencommons/collab-operator/internal/testing/managertest"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
	"github.com/opencommons/collab-operator/internal/testing/wait"
	"github.com/opencommons/collab-operator/internal/uninstall"
)

const (
	operatorNamespace = "collab-system"
	chatBackend       = "matrix"
	forumBackend      = "forum"
	forumToken        = "uninstall-forum-token"
	pollInterval      = 2 * time.Second
)

var (
	cfg        *rest.Config
	k8s        client.Client
	homeserver *dendrite.Server
	operator   *matrixuser.User
	forumSrv   *fake.Server
	// requests counts what the running manager asks of Matrix and the forum.
	requests = &requestCounter{}
	// stopManager stops the running manager and waits until it has stopped.
	stopManager func()
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	harness.SetLogger(zapcore.ErrorLevel)
	scheme := testenv.Scheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	suite, err := harness.Start(ctx, harness.Options{Scheme: scheme, Dendrite: &dendrite.Options{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer suite.Stop()
	cfg, k8s, homeserver = suite.Config, suite.Client, suite.Homeserver
	id, token, err := homeserver.RegisterUser(ctx, "collab-operator", "password-operator", true)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	operator = matrixuser.New(homeserver.URL, id, token)
	for _, name := range []string{"dave", "carol", "erin"} {
		if _, _, err := homeserver.RegisterUser(ctx, name, "password-"+name, false); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	forumSrv = fake.NewServer(forumToken)
	if err := forumSrv.Start("127.0.0.1:0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = forumSrv.Close() }()
	if err := installAdmission(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := startManager(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { stopManager() }()
	if err := createBackends(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// installAdmission creates the ValidatingAdmissionPolicies and bindings of
// config/admission, as config/default installs them: the uninstall must not hang
// on them once the CollaborationPolicy CRD is gone.
func installAdmission(ctx context.Context) error {
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(root, "config", "admission", "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		r := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			obj := &unstructured.Unstructured{}
			if err := r.Decode(&obj.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if len(obj.Object) == 0 {
				continue
			}
			if err := k8s.Create(ctx, obj); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
	}
	return nil
}

// requestCounter counts the manager's requests to the backends by operation.
type requestCounter struct {
	mu  sync.Mutex
	ops map[string]int
	// writes counts every request but GET and HEAD.
	writes atomic.Int64
}

func (c *requestCounter) observe(prefix string) func(method, op string, status int, d time.Duration) {
	return func(method, op string, _ int, _ time.Duration) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.ops == nil {
			c.ops = map[string]int{}
		}
		c.ops[prefix+" "+method+" "+op]++
		if method != http.MethodGet && method != http.MethodHead {
			c.writes.Add(1)
		}
	}
}

// reset forgets what was counted.
func (c *requestCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops = nil
	c.writes.Store(0)
}

// count returns how many requests of the operation were made, e.g. "matrix POST createRoom".
func (c *requestCounter) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops[op]
}

// writeOps lists the write operations counted.
func (c *requestCounter) writeOps() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for op, n := range c.ops {
		if !strings.Contains(op, " GET ") && !strings.Contains(op, " HEAD ") {
			out = append(out, fmt.Sprintf("%s x%d", op, n))
		}
	}
	slices.Sort(out)
	return out
}

// startManager starts a manager as main.go does, with its backend requests counted.
// A manager started after another stopped is the operator installed again.
func startManager() error {
	mgr, err := managertest.Start(context.Background(), cfg, managertest.Options{
		OperatorNamespace:       operatorNamespace,
		MaxConcurrentReconciles: 4,
		MaxRemovalsPerPass:      5,
		ChatRequests:            requests.observe("matrix"),
		ForumRequests:           requests.observe("forum"),
	})
	if err != nil {
		return err
	}
	stopManager = func() { _ = mgr.Stop() }
	return nil
}

// createBackends makes the operator's namespace with the backends' Secrets, then
// the platform team's objects (createPlatform).
func createBackends(ctx context.Context) error {
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}); err != nil {
		return err
	}
	for name, data := range map[string]map[string][]byte{
		"matrix-credentials": {"accessToken": []byte(operator.Token())},
		"forum-credentials":  {"token": []byte(forumToken), "uid": []byte("1")},
	} {
		if err := k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: operatorNamespace}, Data: data}); err != nil {
			return err
		}
	}
	return createPlatform(ctx)
}

// createPlatform makes what the platform team applies besides the operator: a
// ChatBackend on Dendrite with a directory space, a ForumBackend on the stand-in
// forum, and a CollaborationPolicy over the departments, enforced at admission by
// config/admission (installed by TestMain) and by the operator.
func createPlatform(ctx context.Context) error {
	if err := k8s.Create(ctx, &collabv1.CollaborationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "departments"},
		Spec: collabv1.CollaborationPolicySpec{
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn,
				Values: []string{"dept-engineering", "dept-marketing", "dept-design", "dept-people"},
			}}},
			ChatBackends:              []string{chatBackend},
			ForumBackends:             []string{forumBackend},
			AllowDeletionPolicyDelete: true,
			Limits:                    &collabv1.PolicyLimits{Rooms: ptr.To[int32](10)},
		},
	}); err != nil {
		return err
	}
	if err := k8s.Create(ctx, &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: chatBackend},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{
				HomeserverURL:        homeserver.URL,
				ServerName:           homeserver.ServerName,
				CredentialsSecretRef: collabv1.SecretReference{Name: "matrix-credentials"},
				DirectorySpace:       &collabv1.DirectorySpace{Name: "Acme"},
			},
			PollInterval: metav1.Duration{Duration: pollInterval},
		},
	}); err != nil {
		return err
	}
	return k8s.Create(ctx, &collabv1.ForumBackend{
		ObjectMeta: metav1.ObjectMeta{Name: forumBackend},
		Spec: collabv1.ForumBackendSpec{
			NodeBB:       &collabv1.NodeBBBackend{URL: forumSrv.URL(), CredentialsSecretRef: collabv1.SecretReference{Name: "forum-credentials"}},
			PollInterval: metav1.Duration{Duration: pollInterval},
		},
	})
}

// spaces are the drill's departments, as their owners wrote them: the same
// manifests are applied again after the reinstall.
func spaces() []*collabv1.CollaborationSpace {
	member := func(name string, role collabv1.Role) collabv1.Member {
		return collabv1.Member{Kind: collabv1.SubjectUser, Name: name, Role: role}
	}
	return []*collabv1.CollaborationSpace{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "engineering", Namespace: "dept-engineering"},
			Spec: collabv1.CollaborationSpaceSpec{
				Department: "Engineering", Visibility: collabv1.VisibilityOpen,
				Members: []collabv1.Member{member("dave", collabv1.RoleOwner)},
				Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: chatBackend}, Rooms: []collabv1.Room{
					{Name: "general", Topic: "Everything engineering"},
					{Name: "announcements", Posting: collabv1.PostingOwners},
				}},
				Forum: &collabv1.ForumSpec{BackendRef: &collabv1.LocalObjectReference{Name: forumBackend}, Categories: []collabv1.Category{
					{Name: "RFCs", Description: "Proposals for review"}, {Name: "Help"},
				}},
				DeletionPolicy: collabv1.DeletionPolicyDelete, // the worst case: uninstall must not purge
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "marketing", Namespace: "dept-marketing"},
			Spec: collabv1.CollaborationSpaceSpec{
				Department: "Marketing", Visibility: collabv1.VisibilityDepartment,
				Members: []collabv1.Member{member("carol", collabv1.RoleOwner)},
				Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: chatBackend}, Rooms: []collabv1.Room{
					{Name: "general"},
					{Name: "launch", SharedWith: []collabv1.SpaceReference{{Namespace: "dept-engineering", Name: "engineering"}}},
				}},
			},
		},
	}
}

// deployedForumSpace has a forum the operator deploys: its Kubernetes objects must
// outlive the uninstall, and be adopted again after.
func deployedForumSpace() *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "design", Namespace: "dept-design"},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: "Design",
			Members:    []collabv1.Member{{Kind: collabv1.SubjectGroup, Name: "design-leads", Role: collabv1.RoleOwner}},
			Forum: &collabv1.ForumSpec{Deploy: &collabv1.ForumDeploy{
				Storage: collabv1.ForumStorage{Size: resource.MustParse("1Gi")},
			}},
		},
	}
}

func createNamespace(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
}

func apply(t *testing.T, ctx context.Context, objs ...*collabv1.CollaborationSpace) {
	t.Helper()
	for _, o := range objs {
		createNamespace(t, ctx, o.Namespace)
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatalf("cannot create space %s/%s: %v", o.Namespace, o.Name, err)
		}
	}
}

// waitReady waits until the space is Ready at its generation and returns it.
func waitReady(t *testing.T, ctx context.Context, space *collabv1.CollaborationSpace) *collabv1.CollaborationSpace {
	t.Helper()
	got := &collabv1.CollaborationSpace{}
	wait.Eventually(t, 2*time.Minute, space.Namespace+"/"+space.Name+" Ready", func() (bool, string) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(space), got); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(got.Status.Conditions, collabv1.ReadyCondition)
		if c == nil {
			return false, "no Ready condition"
		}
		return c.Status == metav1.ConditionTrue && got.Status.ObservedGeneration == got.Generation, c.Reason + ": " + c.Message
	})
	return got
}

// room is what a user would check of one room.
type room struct {
	ID, Name, JoinRule, Alias string
}

func readRoom(t *testing.T, ctx context.Context, id, alias string) room {
	t.Helper()
	r := room{ID: id}
	var name struct {
		Name string `json:"name"`
	}
	if err := operator.State(ctx, id, "m.room.name", &name); err != nil {
		t.Errorf("room %s: cannot read its name: %v", id, err)
	}
	r.Name = name.Name
	var rules struct {
		JoinRule string `json:"join_rule"`
	}
	if err := operator.State(ctx, id, "m.room.join_rules", &rules); err != nil {
		t.Errorf("room %s: cannot read its join rule: %v", id, err)
	}
	r.JoinRule = rules.JoinRule
	if alias != "" {
		got, err := operator.ResolveAlias(ctx, alias)
		if err != nil {
			t.Errorf("alias %s does not resolve: %v", alias, err)
		}
		r.Alias = alias + " -> " + got
	}
	return r
}

// chatView is every room of the spaces, by "<namespace>/<space>/<room>".
func chatView(t *testing.T, ctx context.Context, spaces map[string]*collabv1.CollaborationSpace) map[string]room {
	t.Helper()
	view := map[string]room{}
	for key, s := range spaces {
		if s.Status.Chat == nil {
			continue
		}
		view[key+"/(space)"] = readRoom(t, ctx, s.Status.Chat.SpaceID, "")
		for _, r := range s.Status.Chat.Rooms {
			view[key+"/"+r.Name] = readRoom(t, ctx, r.RoomID, r.Alias)
		}
	}
	return view
}

// forumIDs are the forum ids a space recorded.
func forumIDs(s *collabv1.CollaborationSpace) []string {
	if s.Status.Forum == nil {
		return nil
	}
	ids := []string{fmt.Sprintf("parent=%d", s.Status.Forum.ParentCategoryID)}
	for _, c := range s.Status.Forum.Categories {
		ids = append(ids, fmt.Sprintf("%s=%d", c.Name, c.ID))
	}
	return append(ids, s.Status.Forum.Groups...)
}

// ownedObjects are the deployed forum's objects a user would not want to lose.
func ownedObjects(space *collabv1.CollaborationSpace) []client.Object {
	return []client.Object{
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: space.Namespace, Name: forumdeploy.VolumeName(space.Name)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: space.Namespace, Name: forumdeploy.AdminSecretName(space.Name)}},
	}
}

// ownerUIDs returns the UIDs an object's owner references name.
func ownerUIDs(t *testing.T, ctx context.Context, obj client.Object) []string {
	t.Helper()
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatalf("%T %s is gone: %v", obj, obj.GetName(), err)
	}
	var uids []string
	for _, o := range obj.GetOwnerReferences() {
		uids = append(uids, string(o.UID))
	}
	return uids
}

// crdDir holds the CRDs `make install` applies and `make uninstall` deletes.
func crdDir(t *testing.T) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "config", "crd", "bases")
}

// ourCRDs are the operator's CRDs as installed.
func ourCRDs(t *testing.T, ctx context.Context) []*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	var list apiextensionsv1.CustomResourceDefinitionList
	if err := k8s.List(ctx, &list); err != nil {
		t.Fatal(err)
	}
	var out []*apiextensionsv1.CustomResourceDefinition
	for i := range list.Items {
		if list.Items[i].Spec.Group == collabv1.GroupVersion.Group {
			out = append(out, &list.Items[i])
		}
	}
	if len(out) < 4 {
		t.Fatalf("found %d CRDs of %s, want every one of config/crd", len(out), collabv1.GroupVersion.Group)
	}
	return out
}

// TestUninstallAndReinstallLoseNothing is the drill.
func TestUninstallAndReinstallLoseNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	// Spaces Ready.
	apply(t, ctx, spaces()...)
	design := deployedForumSpace()
	apply(t, ctx, design)
	before := map[string]*collabv1.CollaborationSpace{}
	for _, s := range spaces() {
		before[s.Namespace+"/"+s.Name] = waitReady(t, ctx, s)
	}
	var designUID string
	wait.Eventually(t, time.Minute, "the deployed forum's volume and Secret", func() (bool, string) {
		cur := &collabv1.CollaborationSpace{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(design), cur); err != nil {
			return false, err.Error()
		}
		designUID = string(cur.UID)
		for _, o := range ownedObjects(design) {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				return false, err.Error()
			}
		}
		return true, ""
	})
	roomsBefore := chatView(t, ctx, before)
	engineering := before["dept-engineering/engineering"]
	if len(forumIDs(engineering)) < 3 {
		t.Fatalf("engineering's forum status is %+v, want its categories", engineering.Status.Forum)
	}
	time.Sleep(2 * pollInterval) // let the passes the spaces' creation started settle
	requests.reset()

	// Uninstall: delete every CRD, as `make uninstall` does, while the operator runs
	// and the admission policies are still installed.
	crds := ourCRDs(t, ctx)
	for _, crd := range crds {
		if err := k8s.Delete(ctx, crd); err != nil {
			t.Fatal(err)
		}
	}
	for _, crd := range crds {
		wait.Eventually(t, 2*time.Minute, "CRD "+crd.Name+" and its objects to be gone", func() (bool, string) {
			err := k8s.Get(ctx, client.ObjectKeyFromObject(crd), crd)
			if err == nil {
				return false, fmt.Sprintf("CRD still there, finalizers %v, conditions %v", crd.Finalizers, crd.Status.Conditions)
			}
			return client.IgnoreNotFound(err) == nil, err.Error()
		})
	}
	time.Sleep(2 * pollInterval) // a ChatBackend poll would have pruned the directory by now
	if n := requests.writes.Load(); n != 0 {
		t.Errorf("the uninstall wrote %d times to Matrix or the forum, want 0: %v", n, requests.writeOps())
	}
	if diff := diffRooms(roomsBefore, chatView(t, ctx, before)); diff != "" {
		t.Errorf("the uninstall changed rooms:\n%s", diff)
	}
	for _, o := range ownedObjects(design) {
		if uids := ownerUIDs(t, ctx, o); slices.Contains(uids, designUID) {
			t.Errorf("%T %s still belongs to the deleted space; the garbage collector would delete it", o, o.GetName())
		}
	}

	// Reinstall: the CRD and the same spaces are applied, and the operator comes
	// back, as `kubectl apply` of the whole configuration would do it.
	stopManager()
	if _, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{crdDir(t)}, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
	if err := createPlatform(ctx); err != nil {
		t.Fatal(err)
	}
	apply(t, ctx, spaces()...)
	design = deployedForumSpace()
	apply(t, ctx, design)
	requests.reset()
	if err := startManager(); err != nil {
		t.Fatal(err)
	}
	after := map[string]*collabv1.CollaborationSpace{}
	for _, s := range spaces() {
		after[s.Namespace+"/"+s.Name] = waitReady(t, ctx, s)
	}
	for key, b := range before {
		a := after[key]
		if b.Status.Chat.SpaceID != a.Status.Chat.SpaceID {
			t.Errorf("%s: space room %s became %s", key, b.Status.Chat.SpaceID, a.Status.Chat.SpaceID)
		}
		if diff := diffStrings(roomIDs(b), roomIDs(a)); diff != "" {
			t.Errorf("%s: rooms changed (-before +after):\n%s", key, diff)
		}
		if diff := diffStrings(forumIDs(b), forumIDs(a)); diff != "" {
			t.Errorf("%s: forum ids changed (-before +after):\n%s", key, diff)
		}
	}
	if diff := diffRooms(roomsBefore, chatView(t, ctx, after)); diff != "" {
		t.Errorf("the reinstall changed rooms:\n%s", diff)
	}
	for _, op := range []string{"matrix POST createRoom", "forum POST createCategory", "forum POST createGroup"} {
		if n := requests.count(op); n != 0 {
			t.Errorf("the reinstall made %d %s calls, want 0", n, op)
		}
	}
	t.Logf("the reinstall's writes: %v", requests.writeOps())
	var newDesign collabv1.CollaborationSpace
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(design), &newDesign); err != nil {
		t.Fatal(err)
	}
	for _, o := range ownedObjects(design) {
		o := o
		wait.Eventually(t, time.Minute, fmt.Sprintf("%T %s to be adopted", o, o.GetName()), func() (bool, string) {
			uids := ownerUIDs(t, ctx, o)
			return slices.Contains(uids, string(newDesign.UID)), fmt.Sprint(uids)
		})
	}
}

// TestUninstallAnnotationReleasesUntouched: with the operator's namespace annotated
// for an uninstall that keeps the CRDs (helm uninstall), a deleted space is let go
// without archiving its rooms, even under deletionPolicy Delete.
func TestUninstallAnnotationReleasesUntouched(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	space := &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "people", Namespace: "dept-people"},
		Spec: collabv1.CollaborationSpaceSpec{
			Department:     "People",
			Members:        []collabv1.Member{{Kind: collabv1.SubjectUser, Name: "erin", Role: collabv1.RoleOwner}},
			Chat:           &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: chatBackend}, Rooms: []collabv1.Room{{Name: "general"}}},
			DeletionPolicy: collabv1.DeletionPolicyDelete,
		},
	}
	apply(t, ctx, space)
	ready := waitReady(t, ctx, space)
	roomsBefore := chatView(t, ctx, map[string]*collabv1.CollaborationSpace{"people": ready})

	setUninstallAnnotation(t, ctx, "true")
	t.Cleanup(func() { setUninstallAnnotation(t, context.Background(), "") })
	if err := k8s.Delete(ctx, ready); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, time.Minute, "the space to be released", func() (bool, string) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(space), &collabv1.CollaborationSpace{})
		return client.IgnoreNotFound(err) == nil && err != nil, fmt.Sprint(err)
	})
	if diff := diffRooms(roomsBefore, chatView(t, ctx, map[string]*collabv1.CollaborationSpace{"people": ready})); diff != "" {
		t.Errorf("the release changed rooms:\n%s", diff)
	}
}

func setUninstallAnnotation(t *testing.T, ctx context.Context, value string) {
	t.Helper()
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: operatorNamespace}, ns); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(ns.DeepCopy())
	if value == "" {
		delete(ns.Annotations, uninstall.Annotation)
	} else {
		metav1.SetMetaDataAnnotation(&ns.ObjectMeta, uninstall.Annotation, value)
	}
	if err := k8s.Patch(ctx, ns, patch); err != nil {
		t.Fatal(err)
	}
}

func roomIDs(s *collabv1.CollaborationSpace) []string {
	var ids []string
	for _, r := range s.Status.Chat.Rooms {
		ids = append(ids, r.Name+"="+r.RoomID+" "+r.Alias)
	}
	return ids
}

func diffRooms(before, after map[string]room) string {
	var out []string
	for k, b := range before {
		if a, ok := after[k]; !ok || a != b {
			out = append(out, fmt.Sprintf("%s: %+v -> %+v", k, b, a))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func diffStrings(a, b []string) string {
	if slices.Equal(a, b) {
		return ""
	}
	return fmt.Sprintf("- %v\n+ %v", a, b)
}
