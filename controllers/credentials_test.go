package controllers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// tenantSecret creates, in a tenant's namespace, a Secret that looks like the
// operator's: labelled as managed by it, holding what a backend's credentials hold.
func tenantSecret(t *testing.T, ns, token string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "stolen-credentials", Namespace: ns,
			Labels: map[string]string{collabv1.ManagedByLabel: collabv1.ManagedByValue}},
		Data: map[string][]byte{"accessToken": []byte(token), "token": []byte(token), "uid": []byte("1")},
	}
	if err := k8sClient.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// countingServer answers every request with 401 and counts them.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// waitCondition waits until obj's condition of type cond is False with reason.
func waitCondition(t *testing.T, obj client.Object, conditions func() []metav1.Condition, cond, reason string) metav1.Condition {
	t.Helper()
	var got metav1.Condition
	eventually(t, fmt.Sprintf("%s %s=False with reason %s", obj.GetName(), cond, reason), func() (bool, string) {
		if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(conditions(), cond)
		if c == nil {
			return false, "no condition"
		}
		got = *c
		return c.Status == metav1.ConditionFalse && c.Reason == reason, fmt.Sprintf("%s %s: %s", c.Status, c.Reason, c.Message)
	})
	return got
}

// checkRefusal checks a refusal's message: it says which namespace is allowed and
// carries nothing of the Secret.
func checkRefusal(t *testing.T, what string, c metav1.Condition, token string) {
	t.Helper()
	if !strings.Contains(c.Message, "only from namespace "+operatorNamespace) {
		t.Errorf("%s: message %q does not say credentials are read only from %s", what, c.Message, operatorNamespace)
	}
	if strings.Contains(c.Message, token) {
		t.Errorf("%s: message %q carries the Secret's value", what, c.Message)
	}
}

// checkNeverRead fails when the manager made any request on a Secret in ns.
func checkNeverRead(t *testing.T, ns string) {
	t.Helper()
	if reqs := secretRequests.in(ns); len(reqs) > 0 {
		t.Errorf("the manager made requests on Secrets in tenant namespace %s: %v", ns, reqs)
	}
	if reqs := secretRequests.collections(); len(reqs) > 0 {
		t.Errorf("the manager listed or watched Secrets: %v", reqs)
	}
}

func TestAChatBackendWithCredentialsInATenantNamespaceIsRefused(t *testing.T) {
	ctx := testCtx(t)
	tenant := newNamespace(t)
	const token = "tenant-token-never-to-be-sent"
	secret := tenantSecret(t, tenant, token)
	server, requests := countingServer(t)
	backend := &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant-matrix"},
		Spec: collabv1.ChatBackendSpec{Matrix: &collabv1.MatrixBackend{
			HomeserverURL:        server.URL,
			ServerName:           "tenant.example",
			CredentialsSecretRef: collabv1.SecretReference{Namespace: tenant, Name: secret.Name},
		}},
	}
	if err := k8sClient.Create(ctx, backend); err != nil {
		t.Fatal(err)
	}
	space := chatSpace(newNamespace(t), "tenantchat", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	space.Spec.Chat.BackendRef.Name = backend.Name
	createSpace(t, space)

	c := waitCondition(t, backend, func() []metav1.Condition { return backend.Status.Conditions },
		collabv1.ReadyCondition, collabv1.ReasonCredentialsNamespaceForbidden)
	checkRefusal(t, "ChatBackend Ready", c, token)
	c = waitCondition(t, space, func() []metav1.Condition { return space.Status.Conditions },
		collabv1.ChatReadyCondition, collabv1.ReasonCredentialsNamespaceForbidden)
	checkRefusal(t, "space ChatReady", c, token)

	if n := requests.Load(); n != 0 {
		t.Errorf("the manager sent %d requests to the backend's server", n)
	}
	checkNeverRead(t, tenant)
}

func TestAForumBackendWithCredentialsInATenantNamespaceIsRefused(t *testing.T) {
	ctx := testCtx(t)
	tenant := newNamespace(t)
	const token = "tenant-forum-token-never-to-be-sent"
	secret := tenantSecret(t, tenant, token)
	server, requests := countingServer(t)
	backend := &collabv1.ForumBackend{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant-forum"},
		Spec: collabv1.ForumBackendSpec{NodeBB: &collabv1.NodeBBBackend{
			URL: server.URL, CredentialsSecretRef: collabv1.SecretReference{Namespace: tenant, Name: secret.Name},
		}},
	}
	if err := k8sClient.Create(ctx, backend); err != nil {
		t.Fatal(err)
	}
	space := newSpace(newNamespace(t), "tenantforum")
	space.Spec.Forum = &collabv1.ForumSpec{
		BackendRef: &collabv1.LocalObjectReference{Name: backend.Name},
		Categories: []collabv1.Category{{Name: "tenantforum RFCs"}},
	}
	createSpace(t, space)

	c := waitCondition(t, backend, func() []metav1.Condition { return backend.Status.Conditions },
		collabv1.ReadyCondition, collabv1.ReasonCredentialsNamespaceForbidden)
	checkRefusal(t, "ForumBackend Ready", c, token)
	c = waitCondition(t, space, func() []metav1.Condition { return space.Status.Conditions },
		collabv1.ForumReadyCondition, collabv1.ReasonCredentialsNamespaceForbidden)
	checkRefusal(t, "space ForumReady", c, token)

	if n := requests.Load(); n != 0 {
		t.Errorf("the manager sent %d requests to the forum", n)
	}
	checkNeverRead(t, tenant)
}

// TestSecretsLabelledAsTheOperatorsAreNeverRead: a tenant labels a Secret as the
// operator's, in the namespace of a space the operator serves. The manager neither
// reads it nor lists or watches Secrets at all.
func TestSecretsLabelledAsTheOperatorsAreNeverRead(t *testing.T) {
	ns := newNamespace(t)
	tenantSecret(t, ns, "tenant-token")
	space := chatSpace(ns, "labelled", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	createSpace(t, space)
	waitReady(t, client.ObjectKeyFromObject(space))
	checkNeverRead(t, ns)
	if len(secretRequests.in(operatorNamespace)) == 0 {
		t.Errorf("no request on the credentials Secret in %s was recorded: the log sees nothing", operatorNamespace)
	}
}

// requestLog records requests on Secrets, read from the paths of a client's
// requests to the API server.
type requestLog struct {
	mu   sync.Mutex
	reqs []secretRequest
}

type secretRequest struct {
	method, namespace, name, query string
}

func (r secretRequest) String() string {
	return fmt.Sprintf("%s secrets ns=%q name=%q %s", r.method, r.namespace, r.name, r.query)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// wrap records the Secret requests that go through rt.
func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if r, ok := parseSecretRequest(req); ok {
			l.mu.Lock()
			l.reqs = append(l.reqs, r)
			l.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

// parseSecretRequest reads /api/v1/secrets and /api/v1/namespaces/NS/secrets[/NAME].
func parseSecretRequest(req *http.Request) (secretRequest, bool) {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "api" || parts[1] != "v1" {
		return secretRequest{}, false
	}
	r := secretRequest{method: req.Method, query: req.URL.RawQuery}
	rest := parts[2:]
	if len(rest) >= 3 && rest[0] == "namespaces" {
		r.namespace, rest = rest[1], rest[2:]
	}
	if rest[0] != "secrets" {
		return secretRequest{}, false
	}
	if len(rest) > 1 {
		r.name = rest[1]
	}
	return r, true
}

// in returns the requests on Secrets in namespace ns.
func (l *requestLog) in(ns string) []secretRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []secretRequest
	for _, r := range l.reqs {
		if r.namespace == ns {
			out = append(out, r)
		}
	}
	return out
}

// collections returns the requests on collections of Secrets other than creates:
// lists, watches, deletecollections.
func (l *requestLog) collections() []secretRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []secretRequest
	for _, r := range l.reqs {
		if r.name == "" && r.method != http.MethodPost {
			out = append(out, r)
		}
	}
	return out
}
