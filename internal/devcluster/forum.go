package devcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum/fake"
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
	for _, name := range samplePeople {
		e.forum.AddUser(name) // as if each had logged in once
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "local-forum-credentials", Namespace: operatorNamespace},
		Data:       map[string][]byte{"token": []byte(e.forumToken), "uid": []byte("1")},
	}
	if err := e.client.Create(ctx, secret); err != nil {
		return err
	}
	go e.actAsForumAdministrator(ctx)
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

// actAsForumAdministrator does for each deployed forum what its administrator does
// once after the first start: create an API token in the admin panel and store it in
// the forum's admin Secret, so the operator can create the categories.
func (e *Env) actAsForumAdministrator(ctx context.Context) {
	for ctx.Err() == nil {
		var secrets corev1.SecretList
		if err := e.client.List(ctx, &secrets, client.MatchingLabels{"app.kubernetes.io/managed-by": "collab-operator"}); err == nil {
			for i := range secrets.Items {
				s := &secrets.Items[i]
				if len(s.Data["password"]) > 0 && len(s.Data["token"]) == 0 {
					s.Data["token"] = []byte(e.forumToken)
					_ = e.client.Update(ctx, s)
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}
