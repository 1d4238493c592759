package controllers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// stateLimiter is a proxy in front of Dendrite that answers the next read of one
// room's state with a 429 and a long retry_after_ms, once, and forwards the rest.
type stateLimiter struct {
	*httptest.Server
	mu      sync.Mutex
	room    string // the room whose next state read is limited; "" when unarmed
	limited int
	// watched are strings (room ids, a namespace) whose requests are timed: last
	// is when the operator last sent one.
	watched []string
	last    time.Time
}

func startStateLimiter(t *testing.T, target string) *stateLimiter {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	l := &stateLimiter{}
	forward := httputil.NewSingleHostReverseProxy(u)
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if l.take(req) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "20")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":20000}`))
			return
		}
		forward.ServeHTTP(w, req)
	}))
	t.Cleanup(l.Close)
	return l
}

// limitNext arms the proxy for the next state read of room.
func (l *stateLimiter) limitNext(room string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.room = room
}

func (l *stateLimiter) take(req *http.Request) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.watched {
		if strings.Contains(req.URL.Path, w) {
			l.last = time.Now()
		}
	}
	if l.room == "" || req.Method != http.MethodGet || req.URL.Path != "/_matrix/client/v3/rooms/"+l.room+"/state" {
		return false
	}
	l.room, l.limited = "", l.limited+1
	return true
}

// watch times the requests whose path contains any of the strings.
func (l *stateLimiter) watch(strs ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.watched, l.last = strs, time.Now()
}

// quietFor reports whether no watched request was sent for d.
func (l *stateLimiter) quietFor(d time.Duration) (bool, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	since := time.Since(l.last)
	return since >= d, fmt.Sprintf("last request to the space's rooms %s ago", since.Round(time.Millisecond))
}

func (l *stateLimiter) limitedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limited
}

// TestAHandChangeDuringACutOffPassIsPutBack: a pass cut off by a rate limit
// resumes where it stopped, trusting the rooms it already read, but only while the
// server's stream reports no change. Someone who changes a room that the cut-off
// pass already read, before the pass resumes, must see the change put back within
// seconds, not when the checkpoint expires or at the next full check (an hour on
// this backend). Abuse on real Dendrite: the rate limit comes from a proxy, the
// hand change from an Owner's own Matrix client.
func TestAHandChangeDuringACutOffPassIsPutBack(t *testing.T) {
	ctx := testCtx(t)
	limiter := startStateLimiter(t, homeserver.URL)
	ns := newNamespace(t)
	// An account of its own: every other backend here uses the suite's, and its
	// stream would wake the space too, hiding what this backend's stream does.
	account, err := register(ctx, "operator-"+ns, false)
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "matrix-resume-", Namespace: operatorNamespace},
		Data:       map[string][]byte{"accessToken": []byte(account.Token())},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), secret) })
	backend := &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "matrix-resume-"},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{
				HomeserverURL:        limiter.URL,
				ServerName:           homeserver.ServerName,
				CredentialsSecretRef: collabv1.SecretReference{Name: secret.Name},
			},
			PollInterval: metav1.Duration{Duration: time.Hour}, // no full check to hide behind
		},
	}
	if err := k8sClient.Create(ctx, backend); err != nil {
		t.Fatal(err)
	}
	space := chatSpace(ns, "resume", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "general", Topic: "Kept"}, collabv1.Room{Name: "random"})
	space.Spec.Chat.BackendRef.Name = backend.Name
	createSpace(t, space)
	t.Cleanup(func() { removeSpaceAndBackend(t, space, backend) })
	space = waitReady(t, client.ObjectKeyFromObject(space))
	general, random := roomID(t, space, "general"), roomID(t, space, "random")
	dave := person(t, "dave") // an Owner, who may change the topic in Matrix
	for _, room := range []string{space.Status.Chat.SpaceID, general} {
		if err := dave.Join(ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	// Let the passes dave's joins woke finish, so the next pass is the edit's.
	limiter.watch(ns, space.Status.Chat.SpaceID, general, random)
	eventually(t, "the operator to be done with the space's rooms", func() (bool, string) {
		return limiter.quietFor(2 * time.Second)
	})

	// An edit that changes nothing in Matrix starts a pass that writes nothing, so
	// no change of the operator's own wakes a full pass: it reads the space room
	// and general, then is cut off at random.
	limiter.limitNext(random)
	updateSpace(t, space, func(s *collabv1.CollaborationSpace) { s.Spec.DeletionPolicy = collabv1.DeletionPolicyRetain }, false)
	eventually(t, "the pass to be cut off at random", func() (bool, string) {
		return limiter.limitedCount() == 1, fmt.Sprintf("%d state reads of random limited", limiter.limitedCount())
	})
	if err := dave.SetTopic(ctx, general, "changed by hand"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "general's topic to be put back", func() (bool, string) {
		var c struct {
			Topic string `json:"topic"`
		}
		err := account.State(ctx, general, "m.room.topic", &c)
		return err == nil && c.Topic == "Kept", fmt.Sprintf("topic %q (%v)", c.Topic, err)
	})
	eventually(t, "the space's pass to complete", func() (bool, string) {
		got := getSpace(t, space)
		c := meta.FindStatusCondition(got.Status.Conditions, collabv1.ReconcilingCondition)
		return c == nil && got.Status.ObservedGeneration == got.Generation, fmt.Sprintf("Reconciling %v", c)
	})
}
