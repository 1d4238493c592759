package rbacstore

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/spacepass/rbacphase"
)

// recorder writes down what a Store tells its handler, one line an event.
type recorder struct{ events []string }

func (r *recorder) OnAdd(obj any, initial bool) {
	r.events = append(r.events, fmt.Sprintf("add %s initial=%v", describe(obj), initial))
}
func (r *recorder) OnUpdate(old, cur any) {
	r.events = append(r.events, fmt.Sprintf("update %s -> %s", describe(old), describe(cur)))
}
func (r *recorder) OnDelete(obj any) { r.events = append(r.events, "delete "+describe(obj)) }

// describe names an object and its resource version.
func describe(obj any) string {
	o := obj.(client.Object)
	return o.GetNamespace() + "/" + o.GetName() + "@" + o.GetResourceVersion()
}

func role(ns, name, rv string, verbs ...string) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv, UID: types.UID("r-" + name),
		Labels:          map[string]string{collabv1.ManagedByLabel: collabv1.ManagedByValue},
		Annotations:     map[string]string{"someone": "else"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "collab.opencommons.io/v1alpha1", Kind: "CollaborationSpace", Name: ns, UID: types.UID("u-" + ns)}}},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: verbs}}}
}

// step is one call of the reflector on a Store.
type step func(s *Store) error

func add(o client.Object) step    { return func(s *Store) error { return s.Add(o) } }
func update(o client.Object) step { return func(s *Store) error { return s.Update(o) } }
func del(o client.Object) step    { return func(s *Store) error { return s.Delete(o) } }
func replace(objs ...client.Object) step {
	return func(s *Store) error {
		list := make([]any, len(objs))
		for i, o := range objs {
			list[i] = o
		}
		return s.Replace(list, "")
	}
}

// TestStoreTellsWhatChanged: a Store tells its handlers what an informer
// would (the first list as initial adds, then adds, updates and deletes; a
// relist as the differences), and holds the objects as the cache's transform
// leaves them.
func TestStoreTellsWhatChanged(t *testing.T) {
	cases := map[string]struct {
		steps      []step
		wantEvents []string
		wantHeld   []string
		inOrder    bool // the steps' events come in the steps' order
	}{
		"the first list is initial": {
			steps:      []step{replace(role("a", "r1", "1", "get"), role("b", "r1", "2", "get"))},
			wantEvents: []string{"add a/r1@1 initial=true", "add b/r1@2 initial=true"},
			wantHeld:   []string{"a/r1@1", "b/r1@2"},
		},
		"then each change": {
			steps: []step{replace(role("a", "r1", "1", "get")), add(role("a", "r2", "2", "get")),
				update(role("a", "r1", "3", "get", "delete")), del(role("a", "r2", "2"))},
			wantEvents: []string{"add a/r1@1 initial=true", "add a/r2@2 initial=false", "update a/r1@1 -> a/r1@3", "delete a/r2@2"},
			wantHeld:   []string{"a/r1@3"},
			inOrder:    true,
		},
		"a relist tells only the differences": {
			steps: []step{replace(role("a", "r1", "1"), role("a", "r2", "2"), role("b", "r1", "3")),
				replace(role("a", "r1", "1"), role("a", "r2", "5"), role("c", "r1", "6"))},
			wantEvents: []string{"add a/r1@1 initial=true", "add a/r2@2 initial=true", "add b/r1@3 initial=true",
				"update a/r2@2 -> a/r2@5", "add c/r1@6 initial=false", "delete b/r1@3"},
			wantHeld: []string{"a/r1@1", "a/r2@5", "c/r1@6"},
		},
		"a deletion the watch missed": {
			steps: []step{replace(role("a", "r1", "1")),
				func(s *Store) error {
					return s.Delete(toolscache.DeletedFinalStateUnknown{Key: "a/r1", Obj: role("a", "r1", "1")})
				}},
			wantEvents: []string{"add a/r1@1 initial=true", "delete a/r1@1"},
		},
		"deleting what it does not hold tells nothing": {
			steps:      []step{replace(), del(role("a", "r1", "1"))},
			wantEvents: nil,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := NewStore(kinds["roles"])
			rec := &recorder{}
			if _, err := s.AddEventHandler(rec); err != nil {
				t.Fatal(err)
			}
			for _, step := range tc.steps {
				if err := step(s); err != nil {
					t.Fatal(err)
				}
			}
			got, want := rec.events, tc.wantEvents
			if !tc.inOrder {
				got, want = sorted(got), sorted(want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			var held []string
			for _, o := range s.list("") {
				held = append(held, describe(o))
			}
			if diff := cmp.Diff(tc.wantHeld, held); diff != "" {
				t.Errorf("held (-want +got):\n%s", diff)
			}
		})
	}
}

// sorted orders events, as a list or relist tells them in no given order.
func sorted(events []string) []string { return slices.Sorted(slices.Values(events)) }

// TestStoreReadsAsTheCacheKeeps: what a Store answers equals what the cache's
// transform makes of the object (so a pass compares the same fingerprints),
// each read is a copy of its own, and a handler added late is told of what is
// held as an initial list and is synced.
func TestStoreReadsAsTheCacheKeeps(t *testing.T) {
	s := NewStore(kinds["roles"])
	if err := s.Replace([]any{role("a", "r1", "1", "get"), role("a", "r2", "2", "list")}, ""); err != nil {
		t.Fatal(err)
	}
	want, _ := rbacphase.TrimForCache(role("a", "r1", "1", "get"))
	got, ok := s.get("a", "r1")
	if !ok {
		t.Fatal("a/r1 not held")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("read (-want +got):\n%s", diff)
	}
	got.GetOwnerReferences()[0].Name = "changed by a caller"
	again, _ := s.get("a", "r1")
	if name := again.GetOwnerReferences()[0].Name; name != "a" {
		t.Errorf("a caller's change reached the store: owner %q", name)
	}
	other, _ := s.get("a", "r2")
	if again.GetSelfLink() == other.GetSelfLink() {
		t.Errorf("roles granting different verbs have one fingerprint %q", again.GetSelfLink())
	}

	rec := &recorder{}
	reg, err := s.AddEventHandler(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !reg.HasSynced() {
		t.Error("a handler added after the first list is not synced")
	}
	if diff := cmp.Diff([]string{"add a/r1@1 initial=true", "add a/r2@2 initial=true"}, sorted(rec.events)); diff != "" {
		t.Errorf("events of a late handler (-want +got):\n%s", diff)
	}
}

// TestHandlersSyncWithTheFirstList: a handler registered before the first
// list is synced once it has been told of it, not before.
func TestHandlersSyncWithTheFirstList(t *testing.T) {
	s := NewStore(kinds["rolebindings"])
	reg, _ := s.AddEventHandler(&recorder{})
	checker := s.HasSyncedChecker()
	if reg.HasSynced() || s.HasSynced() {
		t.Fatal("synced before any list")
	}
	if err := s.Replace(nil, "1"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-checker.Done():
	default:
		t.Error("the store's checker is not done after the first list")
	}
	if !reg.HasSynced() || !s.HasSynced() {
		t.Error("not synced after the first list")
	}
}

// TestTrimmedOnceWhicheverWayTheyCame: a watch-list hands the Store objects
// its Transformer trimmed as they streamed in, a paged list whole ones; both
// are held alike. An object from the API server that carries a selfLink
// like a fingerprint is trimmed afresh, not taken at its word.
func TestTrimmedOnceWhicheverWayTheyCame(t *testing.T) {
	forged := role("a", "forged", "3", "get", "delete")
	held, _ := s0().get("a", "r1")
	forged.SetSelfLink(held.GetSelfLink())
	cases := map[string]struct {
		in   client.Object
		want client.Object
	}{
		"whole, from a paged list": {in: role("a", "r1", "1", "get"), want: trimmedRole(role("a", "r1", "1", "get"))},
		"trimmed by the Transformer": {in: transformed(role("a", "r1", "1", "get")),
			want: trimmedRole(role("a", "r1", "1", "get"))},
		"a selfLink someone sent": {in: forged, want: trimmedRole(role("a", "forged", "3", "get", "delete"))},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := NewStore(kinds["roles"])
			if err := s.Replace([]any{tc.in}, ""); err != nil {
				t.Fatal(err)
			}
			got, _ := s.get(tc.want.GetNamespace(), tc.want.GetName())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("held (-want +got):\n%s", diff)
			}
		})
	}
}

// s0 is a Store holding a/r1 granting get.
func s0() *Store {
	s := NewStore(kinds["roles"])
	_ = s.Replace([]any{role("a", "r1", "1", "get")}, "")
	return s
}

func trimmedRole(r *rbacv1.Role) client.Object {
	o, _ := rbacphase.TrimForCache(r)
	return o.(client.Object)
}

func transformed(r *rbacv1.Role) client.Object {
	o, _ := NewStore(kinds["roles"]).Transformer()(r)
	return o.(client.Object)
}
