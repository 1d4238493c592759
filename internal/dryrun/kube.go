package dryrun

import (
	"context"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// NewKubeClient returns a client that reads from live and records every write
// instead of sending it. Creates and updates succeed as if the server had taken
// them, so the rest of the pass goes on as it would.
func NewKubeClient(live client.WithWatch, rec *Recorder) client.WithWatch {
	k := &kube{live: live, rec: rec}
	return interceptor.NewClient(live, interceptor.Funcs{
		Create: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.CreateOption) error {
			k.add("create", obj, createDetail(obj))
			return nil
		},
		Update: func(ctx context.Context, _ client.WithWatch, obj client.Object, _ ...client.UpdateOption) error {
			if !k.unreadable(obj) {
				k.add("update", obj, k.updateDetail(ctx, obj))
			}
			return nil
		},
		Patch: func(ctx context.Context, _ client.WithWatch, obj client.Object, _ client.Patch, _ ...client.PatchOption) error {
			if !k.unreadable(obj) {
				k.add("update", obj, k.updateDetail(ctx, obj))
			}
			return nil
		},
		Delete: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.DeleteOption) error {
			k.add("delete", obj, "")
			return nil
		},
		DeleteAllOf: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.DeleteAllOfOption) error {
			k.add("delete", obj, "all matching")
			return nil
		},
		SubResourceCreate: func(_ context.Context, _ client.Client, sub string, obj, _ client.Object, _ ...client.SubResourceCreateOption) error {
			k.add("create/"+sub, obj, "")
			return nil
		},
		SubResourceUpdate: func(_ context.Context, _ client.Client, sub string, obj client.Object, _ ...client.SubResourceUpdateOption) error {
			k.add("update/"+sub, obj, "")
			return nil
		},
		SubResourcePatch: func(_ context.Context, _ client.Client, sub string, obj client.Object, _ client.Patch, _ ...client.SubResourcePatchOption) error {
			k.add("update/"+sub, obj, "")
			return nil
		},
		Apply: func(_ context.Context, _ client.WithWatch, obj runtime.ApplyConfiguration, _ ...client.ApplyOption) error {
			k.rec.Add(Change{Backend: BackendKubernetes, Verb: "apply", Target: fmt.Sprintf("%T", obj)})
			return nil
		},
	})
}

type kube struct {
	live client.WithWatch
	rec  *Recorder
}

// unreadable reports whether obj stands for a Secret the plan may not read
// (NewOverlay), and records that whether it changes cannot be told: the pass
// would fill the stand-in and "update" an object it has not seen.
func (k *kube) unreadable(obj client.Object) bool {
	why, ok := Unreadable(obj)
	if ok {
		k.rec.Unknown(fmt.Sprintf("%s: cannot read it (%s), so whether the operator changes it is not planned",
			Target("Secret", client.ObjectKeyFromObject(obj)), why))
	}
	return ok
}

// Target names an object as "Kind namespace/name", the way changes name it.
func Target(kind string, key client.ObjectKey) string {
	if key.Namespace == "" {
		return kind + " " + key.Name
	}
	return kind + " " + key.Namespace + "/" + key.Name
}

func (k *kube) add(verb string, obj client.Object, detail string) {
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	if gvk, err := apiutil.GVKForObject(obj, k.live.Scheme()); err == nil {
		kind = gvk.Kind
	}
	k.rec.Add(Change{Backend: BackendKubernetes, Verb: verb, Target: Target(kind, client.ObjectKeyFromObject(obj)), Detail: detail})
}

// createDetail says what a new object grants; other kinds need no detail (and a
// Secret's data must never be shown).
func createDetail(obj client.Object) string {
	if rb, ok := obj.(*rbacv1.RoleBinding); ok {
		return fmt.Sprintf("role %s to %s", rb.RoleRef.Name, subjectList(rb.Subjects))
	}
	return ""
}

// updateDetail compares obj with the live object: for a RoleBinding, the
// subjects added and removed.
func (k *kube) updateDetail(ctx context.Context, obj client.Object) string {
	rb, ok := obj.(*rbacv1.RoleBinding)
	if !ok {
		return ""
	}
	live := &rbacv1.RoleBinding{}
	if err := k.live.Get(ctx, client.ObjectKeyFromObject(obj), live); err != nil {
		return ""
	}
	var parts []string
	if added := subjectsMissing(rb.Subjects, live.Subjects); len(added) > 0 {
		parts = append(parts, "add "+subjectList(added))
	}
	if removed := subjectsMissing(live.Subjects, rb.Subjects); len(removed) > 0 {
		parts = append(parts, "remove "+subjectList(removed))
	}
	if len(parts) == 0 && !equality.Semantic.DeepEqual(rb.Subjects, live.Subjects) {
		parts = append(parts, "reorder subjects")
	}
	return strings.Join(parts, "; ")
}

// subjectsMissing returns the subjects of a that b lacks.
func subjectsMissing(a, b []rbacv1.Subject) []rbacv1.Subject {
	var out []rbacv1.Subject
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func subjectList(subjects []rbacv1.Subject) string {
	names := make([]string, 0, len(subjects))
	for _, s := range subjects {
		name := s.Kind + " " + s.Name
		if s.Namespace != "" {
			name = s.Kind + " " + s.Namespace + "/" + s.Name
		}
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}
