package statuspatch

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

func cond(t, status string) metav1.Condition {
	return metav1.Condition{Type: t, Status: metav1.ConditionStatus(status), Reason: "R"}
}

// TestAWriterChangesOnlyTheConditionsItOwns: the stream owns no condition, the
// backend controller Ready and Streaming; whatever stale copy a writer holds,
// the conditions it does not own stay as the server had them.
func TestAWriterChangesOnlyTheConditionsItOwns(t *testing.T) {
	cases := map[string]struct {
		owned  []string
		mutate func(b *collabv1.ChatBackend)
		want   []metav1.Condition
		writes int
	}{
		"an owner changes its condition": {
			owned:  []string{collabv1.ReadyCondition},
			mutate: func(b *collabv1.ChatBackend) { b.Status.Conditions[0].Status = "False" },
			want:   []metav1.Condition{cond("Ready", "False"), cond("Streaming", "True")},
			writes: 1,
		},
		"a writer that owns no condition cannot change one": {
			mutate: func(b *collabv1.ChatBackend) {
				b.Status.SyncToken = "s2"
				b.Status.Conditions = []metav1.Condition{cond("Ready", "False")}
			},
			want:   []metav1.Condition{cond("Ready", "True"), cond("Streaming", "True")},
			writes: 1,
		},
		"a condition a writer adds but does not own is dropped": {
			owned: []string{collabv1.ReadyCondition},
			mutate: func(b *collabv1.ChatBackend) {
				b.Status.Conditions = append(b.Status.Conditions, cond("Stalled", "True"))
			},
			want: []metav1.Condition{cond("Ready", "True"), cond("Streaming", "True")},
		},
		"nothing changed: nothing is written": {
			owned:  []string{collabv1.ReadyCondition},
			mutate: func(b *collabv1.ChatBackend) { b.Finalizers = append(b.Finalizers, "x") },
			want:   []metav1.Condition{cond("Ready", "True"), cond("Streaming", "True")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			stored := &collabv1.ChatBackend{ObjectMeta: metav1.ObjectMeta{Name: "chat"},
				Status: collabv1.ChatBackendStatus{SyncToken: "s1",
					Conditions: []metav1.Condition{cond("Ready", "True"), cond("Streaming", "True")}}}
			writes := 0
			c := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(stored).
				WithStatusSubresource(&collabv1.ChatBackend{}).
				WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string,
					obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
					writes++
					return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
				}}).Build()
			before := &collabv1.ChatBackend{}
			if err := c.Get(context.Background(), client.ObjectKey{Name: "chat"}, before); err != nil {
				t.Fatal(err)
			}
			obj := before.DeepCopy()
			tc.mutate(obj)
			if err := Patch(context.Background(), c, before, obj, tc.owned...); err != nil {
				t.Fatal(err)
			}
			got := &collabv1.ChatBackend{}
			if err := c.Get(context.Background(), client.ObjectKey{Name: "chat"}, got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Status.Conditions); diff != "" {
				t.Errorf("conditions on the server (-want +got):\n%s", diff)
			}
			if writes != tc.writes {
				t.Errorf("%d status writes, want %d", writes, tc.writes)
			}
		})
	}
}

// TestStatusIsWrittenOnlyHere: every controller writes a status through Patch,
// so no writer can change a condition it does not own. Fails naming the file
// that writes a status by hand.
func TestStatusIsWrittenOnlyHere(t *testing.T) {
	for _, root := range []string{"../../controllers", "../../internal"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "statuspatch" || d.Name() == "testing") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, call := range []string{"Status().Patch(", "Status().Update("} {
				if strings.Contains(string(src), call) {
					t.Errorf("%s writes a status with %s: use statuspatch.Patch", path, call)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestAnUnchangedStatusCostsLittle: most passes change nothing, and a
// restarted manager makes one for every space; telling that nothing changed
// must not cost a merge patch of the whole object (both sides to JSON and
// back). A space of 20 members and its conditions: under 2 KiB a call.
func TestAnUnchangedStatusCostsLittle(t *testing.T) {
	space := &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Namespace: "dept", Name: "team"}}
	for i := range 20 {
		space.Spec.Members = append(space.Spec.Members, collabv1.Member{Kind: collabv1.SubjectUser, Name: fmt.Sprintf("person-%d", i), Role: collabv1.RoleMember})
	}
	for _, c := range []string{"Ready", "Reconciling", "Stalled", "PolicyCompliant", "MembersReady", "PermissionsReady"} {
		space.Status.Conditions = append(space.Status.Conditions, metav1.Condition{Type: c, Status: "True", Reason: "Succeeded",
			Message: "The space matches its spec", LastTransitionTime: metav1.Now()})
	}
	space.Status.Permissions = &collabv1.PermissionsStatus{Roles: []string{"team-owner", "team-member"},
		RoleBindings: []string{"team-owners", "team-moderators", "team-members"}}
	c := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).Build() // never written to
	obj := space.DeepCopy()
	const calls = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range calls {
		if err := Patch(context.Background(), c, space, obj, collabv1.ReadyCondition); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if perCall := (after.TotalAlloc - before.TotalAlloc) / calls; perCall > 2<<10 {
		t.Errorf("an unchanged status cost %d bytes a call, want under 2 KiB", perCall)
	}
}
