package rbacstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/managercfg"
	"github.com/opencommons/collab-operator/internal/rbacstore"
	"github.com/opencommons/collab-operator/internal/testing/harness"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

// changes counts what a watch on the cache's Roles is told, by kind.
type changes struct {
	mu                     sync.Mutex
	adds, updates, deletes int
}

func (c *changes) OnAdd(obj any, _ bool) { c.record(obj, &c.adds) }
func (c *changes) OnUpdate(_, obj any)   { c.record(obj, &c.updates) }
func (c *changes) OnDelete(obj any)      { c.record(obj, &c.deletes) }
func (c *changes) record(_ any, n *int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*n++
}
func (c *changes) count() (int, int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.adds, c.updates, c.deletes
}

// TestTheCacheKeepsTheOperatorsRolesAsRecords: on a real API server, the
// manager's cache (ManagerOptions) holds the operator's Roles, and only
// those, as fingerprints; a hand edit of their rules reaches a watch with
// another fingerprint, a deletion too, and reads follow.
func TestTheCacheKeepsTheOperatorsRolesAsRecords(t *testing.T) {
	apiServer := harness.New(t, harness.Options{})
	cfg, c := apiServer.Config, apiServer.Client
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	scheme := testenv.Scheme()
	opts := managercfg.ManagerOptions(ctrl.Options{})
	cached, err := opts.NewCache(cfg, cache.Options{Scheme: scheme, ByObject: opts.Cache.ByObject})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cached.(*rbacstore.Cache); !ok {
		t.Fatalf("the manager's cache is a %T, not the RBAC store's", cached)
	}
	ours := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "collab-team-viewer", Namespace: "default",
		Labels: map[string]string{collabv1.ManagedByLabel: collabv1.ManagedByValue}},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}}}
	theirs := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "someone-elses", Namespace: "default"}, Rules: ours.Rules}
	for _, r := range []*rbacv1.Role{ours, theirs} {
		if err := c.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	go func() { _ = cached.Start(ctx) }()
	if !cached.WaitForCacheSync(ctx) {
		t.Fatal("the cache did not sync")
	}
	informer, err := cached.GetInformer(ctx, &rbacv1.Role{})
	if err != nil {
		t.Fatal(err)
	}
	seen := &changes{}
	if _, err := informer.AddEventHandler(seen); err != nil {
		t.Fatal(err)
	}

	var got rbacv1.Role
	if err := cached.Get(ctx, client.ObjectKeyFromObject(ours), &got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.GetSelfLink(), "collab:") || got.Rules != nil || got.Labels != nil {
		t.Errorf("the cache holds the operator's Role as %+v, want a fingerprint and no rules or labels", got)
	}
	if err := cached.Get(ctx, client.ObjectKeyFromObject(theirs), &rbacv1.Role{}); !apierrors.IsNotFound(err) {
		t.Errorf("reading someone else's Role from the cache: %v, want not found", err)
	}
	before := got.GetSelfLink()

	ours.Rules[0].Verbs = append(ours.Rules[0].Verbs, "delete")
	if err := c.Update(ctx, ours); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "the hand edit reaches the watch", func() (bool, string) {
		_, updates, _ := seen.count()
		return updates == 1, fmt.Sprintf("%d updates", updates)
	})
	if err := cached.Get(ctx, client.ObjectKeyFromObject(ours), &got); err != nil || got.GetSelfLink() == before {
		t.Errorf("after a hand edit the cache reads %q (%v), want a fingerprint other than %q", got.GetSelfLink(), err, before)
	}
	var list rbacv1.RoleList
	if err := cached.List(ctx, &list, client.InNamespace("default")); err != nil || len(list.Items) != 1 {
		t.Errorf("listing the namespace's Roles from the cache: %d (%v), want the operator's one", len(list.Items), err)
	}

	if err := c.Delete(ctx, ours); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "the deletion reaches the watch", func() (bool, string) {
		_, _, deletes := seen.count()
		return deletes == 1, fmt.Sprintf("%d deletions", deletes)
	})
	if err := cached.Get(ctx, client.ObjectKeyFromObject(ours), &got); !apierrors.IsNotFound(err) {
		t.Errorf("reading a deleted Role from the cache: %v, want not found", err)
	}
	if adds, _, _ := seen.count(); adds != 1 {
		t.Errorf("the watch was told of %d Roles at first, want the operator's one", adds)
	}
}
