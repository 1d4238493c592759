package dryrun

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	clientfake "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

func TestOverlay(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	liveNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "eng", Labels: map[string]string{"from": "cluster"}}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "locked", Namespace: "eng"}}
	base := clientfake.NewClientBuilder().WithScheme(scheme).WithObjects(liveNS, secret).
		WithInterceptorFuncs(interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*corev1.Secret); ok {
				return apierrors.NewForbidden(corev1.Resource("secrets"), key.Name, nil)
			}
			return c.Get(ctx, key, obj, opts...)
		}}).Build()
	files := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "eng", Labels: map[string]string{"from": "file"}}},
		&corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: "finance", Labels: map[string]string{"team": "fin"}}},
	}
	c := NewOverlay(base, files)

	cases := map[string]struct {
		key      client.ObjectKey
		obj      client.Object
		wantErr  func(error) bool
		check    func(client.Object) bool
		describe string
	}{
		"the cluster's object wins over its file": {
			key: client.ObjectKey{Name: "eng"}, obj: &corev1.Namespace{},
			check:    func(o client.Object) bool { return o.GetLabels()["from"] == "cluster" },
			describe: "labels from the cluster",
		},
		"a Namespace only the files hold exists": {
			key: client.ObjectKey{Name: "finance"}, obj: &corev1.Namespace{},
			check:    func(o client.Object) bool { return o.GetName() == "finance" && FromFiles(o) },
			describe: "the file's Namespace, with no resourceVersion",
		},
		"its labels read as metadata only": {
			key: client.ObjectKey{Name: "finance"}, obj: namespaceMetadata(),
			check:    func(o client.Object) bool { return o.GetName() == "finance" && o.GetLabels()["team"] == "fin" },
			describe: "the file's name and labels",
		},
		"nothing is in a Namespace only the files hold": {
			key: client.ObjectKey{Namespace: "finance", Name: "x"}, obj: &rbacv1.Role{},
			wantErr: apierrors.IsNotFound,
		},
		"a Secret the plan may not read is a stand-in": {
			key: client.ObjectKey{Namespace: "eng", Name: "locked"}, obj: &corev1.Secret{},
			check: func(o client.Object) bool {
				_, ok := Unreadable(o)
				return ok && len(o.(*corev1.Secret).Data) == 0
			},
			describe: "marked unreadable, no data",
		},
		"what is nowhere is not found": {
			key: client.ObjectKey{Name: "nowhere"}, obj: &corev1.Namespace{},
			wantErr: apierrors.IsNotFound,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := c.Get(ctx, tc.key, tc.obj)
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Fatalf("Get = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(tc.obj) {
				t.Errorf("got %+v, want %s", tc.obj, tc.describe)
			}
		})
	}
	roles := &rbacv1.RoleList{}
	if err := c.List(ctx, roles, client.InNamespace("finance")); err != nil || len(roles.Items) != 0 {
		t.Errorf("List in a Namespace only the files hold = %d items, %v; want none", len(roles.Items), err)
	}
}

func namespaceMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return m
}
