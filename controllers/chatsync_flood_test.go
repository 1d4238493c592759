package controllers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers/chatbackend/stream"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// stateReads is a proxy in front of Dendrite that counts the operator's reads of
// one room's state: every full pass over a space reads its space room once.
type stateReads struct {
	*httptest.Server
	mu    sync.Mutex
	room  string
	reads []time.Time
	all   int // every request the operator sent through the proxy
}

func startStateReads(t *testing.T, target string) *stateReads {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &stateReads{}
	forward := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p.mu.Lock()
		if !strings.HasSuffix(req.URL.Path, "/sync") {
			p.all++
		}
		if p.room != "" && req.Method == http.MethodGet && req.URL.Path == "/_matrix/client/v3/rooms/"+p.room+"/state" {
			p.reads = append(p.reads, time.Now())
		}
		p.mu.Unlock()
		forward.ServeHTTP(w, req)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *stateReads) watch(room string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.room, p.reads = room, nil
}

// since returns the reads of the watched room after t, and every request sent.
func (p *stateReads) since(t time.Time) ([]time.Time, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Time
	for _, r := range p.reads {
		if r.After(t) {
			out = append(out, r)
		}
	}
	return out, p.all
}

// TestAFloodOfDisplayNameChangesCostsAtMostOnePassPerSecond: a display name
// change is an m.room.member event in every room the person is in. Someone who
// changes theirs as fast as the server lets them must not cost their space more
// than one full pass a second, and the last change must still be followed by a
// pass. Measured on real Dendrite: passes are counted as the operator's reads of
// the space room's state, through a proxy.
func TestAFloodOfDisplayNameChangesCostsAtMostOnePassPerSecond(t *testing.T) {
	ctx := testCtx(t)
	ns := newNamespace(t)
	proxy := startStateReads(t, homeserver.URL)
	account, err := register(ctx, "operator-"+ns, false)
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "matrix-flood-", Namespace: operatorNamespace},
		Data:       map[string][]byte{"accessToken": []byte(account.Token())},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, secret) })
	backend := &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "matrix-flood-"},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{HomeserverURL: proxy.URL, ServerName: homeserver.ServerName,
				CredentialsSecretRef: collabv1.SecretReference{Name: secret.Name}},
			PollInterval: metav1.Duration{Duration: time.Hour},
		},
	}
	if err := k8sClient.Create(ctx, backend); err != nil {
		t.Fatal(err)
	}
	space := chatSpace(ns, "flood", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	space.Spec.Chat.BackendRef.Name = backend.Name
	createSpace(t, space)
	t.Cleanup(func() { removeSpaceAndBackend(t, space, backend) })
	space = waitReady(t, client.ObjectKeyFromObject(space))
	// The space's three people, each in both its rooms.
	flooders := []*matrixuser.User{person(t, "alice"), person(t, "carol"), person(t, "dave")}
	for _, who := range flooders {
		for _, room := range []string{space.Status.Chat.SpaceID, roomID(t, space, "general")} {
			if err := who.Join(ctx, room); err != nil {
				t.Fatal(err)
			}
		}
	}
	proxy.watch(space.Status.Chat.SpaceID)
	eventually(t, "the passes alice's joins woke to end", func() (bool, string) {
		reads, _ := proxy.since(time.Now().Add(-2 * time.Second))
		return len(reads) == 0, fmt.Sprintf("%d reads in the last 2 s", len(reads))
	})

	const flood = 5 * time.Second
	start := time.Now()
	_, requestsBefore := proxy.since(start)
	// Each changes their display name as fast as the server answers, two at a
	// time.
	var changes atomic.Int64
	var wg sync.WaitGroup
	for i, who := range append(slices.Clone(flooders), flooders...) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Since(start) < flood; n++ {
				if err := who.SetDisplayName(ctx, fmt.Sprintf("%s %d.%d", who.ID, i, n)); err != nil {
					t.Error(err)
					return
				}
				changes.Add(1)
			}
		}()
	}
	wg.Wait()
	end := time.Now()
	// The last change must be followed by a pass.
	eventually(t, "a pass after the last change", func() (bool, string) {
		reads, _ := proxy.since(end)
		return len(reads) > 0, "no read of the space room since the flood ended"
	})
	settle := time.Now().Add(2 * time.Second)
	for time.Now().Before(settle) {
		time.Sleep(100 * time.Millisecond)
	}
	reads, requestsAfter := proxy.since(start)
	took := time.Since(start)
	t.Logf("%d display name changes in %s (%.1f/s, each a member event in 2 rooms); %d passes in %s (%.2f/s); "+
		"%d Matrix requests (%.1f/s)", changes.Load(), flood.Round(time.Millisecond), float64(changes.Load())/flood.Seconds(),
		len(reads), took.Round(time.Millisecond), float64(len(reads))/took.Seconds(),
		requestsAfter-requestsBefore, float64(requestsAfter-requestsBefore)/took.Seconds())
	// One pass a second, plus the one the first change starts at once. Gaps
	// between reads are not asserted: where in its pass a read falls follows the
	// server's latency, which varies by hundreds of milliseconds here.
	if most := int(took/stream.WakeInterval) + 1; len(reads) > most {
		t.Errorf("%d passes in %s, want at most %d: one a second", len(reads), took.Round(time.Millisecond), most)
	}
}
