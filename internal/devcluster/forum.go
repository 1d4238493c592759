package devcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
)

// devForumBackend is the ForumBackend the shared-forum sample points at.
const devForumBackend = "local-forum"

// startForum runs the in-repo NodeBB stand-in on loopback. NodeBB v4 cannot run
// here, and the forum pods on the kwok node do not really run: the operator reaches
// every forum's API at this one server (--forum-endpoint-override), and the shared
// forum sample's ForumBackend points at it too.
func (e *Env) startForum(ctx context.Context) error {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	e.forumToken = hex.EncodeToString(b)
	e.forum = fake.NewServer(e.forumToken)
	if err := e.forum.Start("127.0.0.1:0"); err != nil {
		return err
	}
	e.stoppers = append(e.stoppers, func() { _ = e.forum.Close() })
	for _, name := range devPeople() {
		e.forum.AddUser(name) // as if each had logged in once
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "local-forum-credentials", Namespace: operatorNamespace},
		Data:       map[string][]byte{"token": []byte(e.forumToken), "uid": []byte("1")},
	}
	if err := e.client.Create(ctx, secret); err != nil {
		return err
	}
	go e.playForumSetup(ctx)
	return e.client.Create(ctx, &collabv1.ForumBackend{
		ObjectMeta: metav1.ObjectMeta{Name: devForumBackend},
		Spec: collabv1.ForumBackendSpec{
			NodeBB: &collabv1.NodeBBBackend{
				URL:                  e.forum.URL(),
				CredentialsSecretRef: collabv1.SecretReference{Namespace: operatorNamespace, Name: secret.Name},
			},
			PollInterval: metav1.Duration{Duration: 30 * time.Second},
		},
	})
}

// playForumSetup does for each deployed forum what its pod's setup container does,
// since the pods on the kwok node do not really run: NodeBB's setup creates the
// administrator account from NODEBB_ADMIN_USERNAME and NODEBB_ADMIN_PASSWORD,
// which the Deployment takes from the forum's admin Secret; here the stand-in
// forum gets that account. No token is made: the operator logs in with that
// account and mints its own, as it does on a real cluster.
func (e *Env) playForumSetup(ctx context.Context) {
	done := map[string]bool{}
	for ctx.Err() == nil {
		var deps appsv1.DeploymentList
		// The forum's labels are on its pods; the Deployment carries the operator's.
		if err := e.client.List(ctx, &deps, client.MatchingLabels{"app.kubernetes.io/managed-by": "collab-operator"}); err == nil {
			for i := range deps.Items {
				d := &deps.Items[i]
				if d.Spec.Template.Labels["app.kubernetes.io/name"] != "nodebb" {
					continue
				}
				key := d.Namespace + "/" + d.Name + "/" + string(d.UID)
				if done[key] {
					continue
				}
				if username, password, ok := e.adminLogin(ctx, d); ok {
					e.forum.SetupAdmin(username, password)
					done[key] = true
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// adminLogin reads the admin username and password the Deployment's setup
// container is given, as the kubelet would resolve its env.
func (e *Env) adminLogin(ctx context.Context, d *appsv1.Deployment) (username, password string, ok bool) {
	for _, c := range d.Spec.Template.Spec.InitContainers {
		if c.Name != "setup" {
			continue
		}
		values := map[string]string{}
		for _, env := range c.Env {
			ref := env.ValueFrom
			if ref == nil || ref.SecretKeyRef == nil {
				continue
			}
			s := &corev1.Secret{}
			if err := e.client.Get(ctx, client.ObjectKey{Namespace: d.Namespace, Name: ref.SecretKeyRef.Name}, s); err != nil {
				return "", "", false
			}
			values[env.Name] = string(s.Data[ref.SecretKeyRef.Key])
		}
		username, password = values["NODEBB_ADMIN_USERNAME"], values["NODEBB_ADMIN_PASSWORD"]
		return username, password, username != "" && password != ""
	}
	return "", "", false
}
