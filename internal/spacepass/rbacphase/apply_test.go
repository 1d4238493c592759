package rbacphase

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// TestApplyRBACWritesOnlyWhatTheServerLacks: the cache may hold an older copy
// of a binding than the server (its watch is behind). A pass that finds the
// cached fingerprint different reads the binding whole and writes only when
// the server's copy differs too.
func TestApplyRBACWritesOnlyWhatTheServerLacks(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = collabv1.AddToScheme(scheme)
	space := &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Name: "team", Namespace: "ns", UID: "space-uid"}}
	binding := func(names ...string) *rbacv1.RoleBinding {
		b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "collab-team-members", Namespace: "ns",
			Labels: scope.OwnedLabels(nil, space)},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "collab-team-viewer"}}
		for _, n := range names {
			b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: n})
		}
		_ = controllerutil.SetControllerReference(space, b, scheme)
		return b
	}
	cases := map[string]struct {
		server     *rbacv1.RoleBinding
		wantWrites int
	}{
		"the server already has what the space wants": {server: binding("alice", "bob"), wantWrites: 0},
		"the server has an intruder too":              {server: binding("alice", "bob", "intruder"), wantWrites: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			stale := binding("alice") // the cache's copy, from before bob joined
			if _, err := TrimForCache(stale); err != nil {
				t.Fatal(err)
			}
			writes := 0
			cache := fake.NewClientBuilder().WithScheme(scheme).WithObjects(stale).
				WithInterceptorFuncs(interceptor.Funcs{
					Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
						writes++
						return nil
					},
				}).Build()
			server := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.server).Build()
			r := &Phase{Kit: &scope.Kit{Client: cache, APIReader: server, Scheme: scheme, Changes: &scope.PassChanges{}}}
			if err := r.applyRBAC(context.Background(), space, binding("alice", "bob"), "RoleBinding"); err != nil {
				t.Fatal(err)
			}
			if writes != tc.wantWrites {
				t.Errorf("applyRBAC wrote %d times, want %d", writes, tc.wantWrites)
			}
		})
	}
}
