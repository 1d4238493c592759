package controllers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/dryrun"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/spacepass"
	"github.com/opencommons/collab-operator/internal/spacepass/forumphase"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// matrixRequest is one request that reached the homeserver through the proxy.
type matrixRequest struct {
	method   string
	segments []string // the path after /_matrix/client/v3, unescaped
	body     map[string]any
	response map[string]any
}

// recordingProxy stands between the operator and Dendrite and keeps every request,
// so a test sees exactly what was sent, room ids included.
type recordingProxy struct {
	*httptest.Server
	mu       sync.Mutex
	requests []matrixRequest
}

func startRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		req := resp.Request
		raw, _ := req.Context().Value(bodyKey{}).([]byte)
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(out))
		r := matrixRequest{method: req.Method}
		for _, seg := range strings.Split(strings.TrimPrefix(req.URL.EscapedPath(), "/_matrix/client/v3/"), "/") {
			s, _ := url.PathUnescape(seg)
			r.segments = append(r.segments, s)
		}
		_ = json.Unmarshal(raw, &r.body)
		_ = json.Unmarshal(out, &r.response)
		p.mu.Lock()
		p.requests = append(p.requests, r)
		p.mu.Unlock()
		return nil
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(raw))
		rp.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), bodyKey{}, raw)))
	}))
	t.Cleanup(p.Close)
	return p
}

type bodyKey struct{}

// take returns the requests recorded since the last take and forgets them.
func (p *recordingProxy) take() []matrixRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.requests
	p.requests = nil
	return out
}

func writesOf(reqs []matrixRequest) []matrixRequest {
	var out []matrixRequest
	for _, r := range reqs {
		if r.method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// changeKey is what plan and apply must agree on for one write.
type changeKey struct{ Backend, Verb, Target, Object string }

// matrixChanges reads the writes the operator sent as the changes they make, naming
// rooms by alias (names: room id → alias) as the plan does.
func matrixChanges(t *testing.T, writes []matrixRequest, names map[string]string) []changeKey {
	t.Helper()
	// Created rooms first: later writes in the same pass name them by id.
	for _, w := range writes {
		if len(w.segments) == 1 && w.segments[0] == "createRoom" {
			names[fmt.Sprint(w.response["room_id"])] = "#" + fmt.Sprint(w.body["room_alias_name"]) + ":" + homeserver.ServerName
		}
	}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	var out []changeKey
	for _, w := range writes {
		s := w.segments
		k := changeKey{Backend: dryrun.BackendChat}
		switch {
		case len(s) == 1 && s[0] == "createRoom":
			k.Verb, k.Target = "create", "#"+fmt.Sprint(w.body["room_alias_name"])+":"+homeserver.ServerName
		case len(s) == 3 && s[0] == "rooms" && (s[2] == "invite" || s[2] == "kick"):
			k.Verb, k.Target, k.Object = "invite", name(s[1]), fmt.Sprint(w.body["user_id"])
			if s[2] == "kick" {
				k.Verb = "remove"
			}
		case len(s) >= 4 && s[0] == "rooms" && s[2] == "state":
			k.Target = name(s[1])
			stateKey := strings.Join(s[4:], "/")
			switch s[3] {
			case "m.room.name":
				k.Verb = "set-name"
			case "m.room.topic":
				k.Verb = "set-topic"
			case "m.room.join_rules":
				k.Verb = "set-join-rule"
			case "m.room.power_levels":
				k.Verb = "set-power-levels"
			case "m.space.child":
				k.Verb, k.Object = "link", name(stateKey)
				if len(w.body) == 0 {
					k.Verb = "unlink"
				}
			case "m.space.parent":
				k.Verb, k.Object = "set-parent", name(stateKey)
			default:
				t.Errorf("the operator wrote state %s, which no planned change maps to", s[3])
			}
		case len(s) == 4 && s[0] == "directory" && s[1] == "list":
			k.Verb, k.Target = "unpublish", name(s[3])
			if w.body["visibility"] == "public" {
				k.Verb = "publish"
			}
		default:
			t.Errorf("the operator sent %s %s, which no planned change maps to", w.method, strings.Join(s, "/"))
			continue
		}
		out = append(out, k)
	}
	return out
}

// rbacState records the resourceVersion of the space's Roles and RoleBindings.
func rbacState(t *testing.T, ctx context.Context, ns, space string) map[string]string {
	t.Helper()
	sel := client.MatchingLabels{collabv1.SpaceLabel: space}
	out := map[string]string{}
	roles := &rbacv1.RoleList{}
	bindings := &rbacv1.RoleBindingList{}
	if err := k8sClient.List(ctx, roles, client.InNamespace(ns), sel); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.List(ctx, bindings, client.InNamespace(ns), sel); err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Items {
		out[dryrun.Target("Role", client.ObjectKeyFromObject(&r))] = r.ResourceVersion
	}
	for _, b := range bindings.Items {
		out[dryrun.Target("RoleBinding", client.ObjectKeyFromObject(&b))] = b.ResourceVersion
	}
	return out
}

// rbacChanges compares two rbacStates as the writes that lead from one to the other.
func rbacChanges(before, after map[string]string) []changeKey {
	var out []changeKey
	for target, v := range after {
		switch old, ok := before[target]; {
		case !ok:
			out = append(out, changeKey{dryrun.BackendKubernetes, "create", target, ""})
		case old != v:
			out = append(out, changeKey{dryrun.BackendKubernetes, "update", target, ""})
		}
	}
	for target := range before {
		if _, ok := after[target]; !ok {
			out = append(out, changeKey{dryrun.BackendKubernetes, "delete", target, ""})
		}
	}
	return out
}

func sortedKeys(keys []changeKey) []changeKey {
	slices.SortFunc(keys, func(a, b changeKey) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	return keys
}

// TestPlanIsWhatTheOperatorThenDoes plans a changed space, applies the change, and
// compares the plan with the requests the manager really sent to Matrix and the
// RBAC objects it really wrote.
func TestPlanIsWhatTheOperatorThenDoes(t *testing.T) {
	ctx := testCtx(t)
	proxy := startRecordingProxy(t, homeserver.URL)
	backend := &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: "matrix-planned"},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{
				HomeserverURL:        proxy.URL,
				ServerName:           homeserver.ServerName,
				CredentialsSecretRef: collabv1.SecretReference{Namespace: "collab-system", Name: "matrix-credentials"},
			},
			PollInterval: metav1.Duration{Duration: testPollInterval},
		},
	}
	if err := k8sClient.Create(ctx, backend); err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t)
	space := chatSpace(ns, "planning", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "general", Topic: "Old topic"}, collabv1.Room{Name: "random"})
	space.Spec.Chat.BackendRef.Name = backend.Name
	space.Spec.MemberPolicy = collabv1.MemberPolicyAuthoritative
	createSpace(t, space)
	// Registered after the proxy's cleanup, so it runs first: the space's rooms are
	// archived through the proxy, then nothing uses the backend any more.
	t.Cleanup(func() { removeSpaceAndBackend(t, space, backend) })
	space = waitReady(t, client.ObjectKeyFromObject(space))

	// The change a pull request would make: a new room, a new topic, bob in and
	// alice out.
	desired := space.DeepCopy()
	desired.Spec.Chat.Rooms[0].Topic = "New topic"
	desired.Spec.Chat.Rooms = append(desired.Spec.Chat.Rooms, collabv1.Room{Name: "design", Topic: "Sketches"})
	desired.Spec.Members = []collabv1.Member{
		{Kind: collabv1.SubjectUser, Name: "dave", Role: collabv1.RoleOwner},
		{Kind: collabv1.SubjectUser, Name: "carol", Role: collabv1.RoleModerator},
		{Kind: collabv1.SubjectUser, Name: "bob", Role: collabv1.RoleMember},
	}

	live, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	proxy.take()
	rbacBefore := rbacState(t, ctx, ns, space.Name)
	plan, err := spacepass.PlanSpace(ctx, live, desired, spacepass.PlanOptions{
		Chat: &matrix.Connector{}, Forums: forum.Engines{&nodebb.Connector{}},
		Forum:              forumphase.Settings{OperatorNamespace: "collab-system", EndpointOverride: forumAPI},
		MaxRemovalsPerPass: 5,
	})
	if err != nil {
		t.Fatalf("plan: %v (%+v)", err, plan)
	}
	if w := writesOf(proxy.take()); len(w) != 0 {
		t.Fatalf("planning sent %d writes to Matrix, want none: %+v", len(w), w)
	}
	if after := rbacState(t, ctx, ns, space.Name); !cmp.Equal(rbacBefore, after) {
		t.Fatalf("planning changed RBAC objects: %s", cmp.Diff(rbacBefore, after))
	}
	var text, md bytes.Buffer
	_ = dryrun.WriteText(&text, []dryrun.Plan{plan})
	_ = dryrun.WriteMarkdown(&md, []dryrun.Plan{plan})
	t.Logf("plan:\n%s\n%s", text.String(), md.String())

	// Apply the same change and let the manager carry it out.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current := &collabv1.CollaborationSpace{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(space), current); err != nil {
			return err
		}
		current.Spec = desired.Spec
		return k8sClient.Update(ctx, current)
	})
	if err != nil {
		t.Fatal(err)
	}
	applied := waitReady(t, client.ObjectKeyFromObject(space))

	names := map[string]string{applied.Status.Chat.SpaceID: "#" + ns + "." + space.Name + ":" + homeserver.ServerName}
	for _, r := range applied.Status.Chat.Rooms {
		names[r.RoomID] = r.Alias
	}
	performed := matrixChanges(t, writesOf(proxy.take()), names)
	performed = append(performed, rbacChanges(rbacBefore, rbacState(t, ctx, ns, space.Name))...)

	var planned []changeKey
	verbs := map[string]bool{}
	for _, c := range plan.Changes {
		if c.Backend == dryrun.BackendKubernetes && !strings.HasPrefix(c.Target, "Role") {
			continue // only the operator's RBAC objects are compared here
		}
		planned = append(planned, changeKey{c.Backend, c.Verb, c.Target, c.Object})
		verbs[c.Backend+" "+c.Verb] = true
	}
	if diff := cmp.Diff(sortedKeys(planned), sortedKeys(performed)); diff != "" {
		t.Errorf("the plan differs from what the operator did (-planned +performed):\n%s", diff)
	}
	// The change exercises every kind of write it was meant to.
	for _, v := range []string{"chat create", "chat set-topic", "chat invite", "chat remove", "chat link", "kubernetes update"} {
		if !verbs[v] {
			t.Errorf("the plan holds no %q change; the test no longer covers it", v)
		}
	}
}

// removeSpaceAndBackend deletes a test's space, waits until its finalizer has run,
// then deletes its ChatBackend, so later tests' passes do not use either.
func removeSpaceAndBackend(t *testing.T, space *collabv1.CollaborationSpace, backend *collabv1.ChatBackend) {
	ctx := context.Background()
	if err := k8sClient.Delete(ctx, space); client.IgnoreNotFound(err) != nil {
		t.Errorf("cannot delete the space: %v", err)
		return
	}
	eventually(t, "the space to be gone", func() (bool, string) {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(space), &collabv1.CollaborationSpace{})
		return client.IgnoreNotFound(err) == nil && err != nil, fmt.Sprint(err)
	})
	if err := k8sClient.Delete(ctx, backend); client.IgnoreNotFound(err) != nil {
		t.Errorf("cannot delete the ChatBackend: %v", err)
	}
}
