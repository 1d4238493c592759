package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	forumdeploy "github.com/opencommons/collab-operator/internal/forum/nodebb/deploy"
	"github.com/opencommons/collab-operator/internal/testing/wait"
)

// TestDeployedForumLifecycle: the forum's Deployment turns Available on the kwok
// node and ForumReady follows, with the API token the operator minted itself; deleting the space removes what it owns through the
// cluster's own controllers, and keeps the volume under Archive.
func TestDeployedForumLifecycle(t *testing.T) {
	for _, policy := range []collabv1.DeletionPolicy{collabv1.DeletionPolicyArchive, collabv1.DeletionPolicyDelete} {
		t.Run(string(policy), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			name := "e2e-" + map[collabv1.DeletionPolicy]string{"Archive": "archive", "Delete": "delete"}[policy]
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
			if err := c.Create(ctx, ns); err != nil {
				t.Fatal(err)
			}
			space := &collabv1.CollaborationSpace{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: name},
				Spec: collabv1.CollaborationSpaceSpec{
					Department:     "E2E " + string(policy),
					Members:        []collabv1.Member{{Kind: collabv1.SubjectUser, Name: "alice", Role: collabv1.RoleOwner}},
					Forum:          &collabv1.ForumSpec{Deploy: &collabv1.ForumDeploy{}, Categories: []collabv1.Category{{Name: name + " General"}}},
					DeletionPolicy: policy,
				},
			}
			if err := c.Create(ctx, space); err != nil {
				t.Fatal(err)
			}
			key := client.ObjectKey{Namespace: name, Name: forumdeploy.Name(name)}
			wait.Eventually(t, 3*time.Minute, "the forum to be Available and ForumReady", func() (bool, string) {
				dep := &appsv1.Deployment{}
				if err := c.Get(ctx, key, dep); err != nil {
					return false, err.Error()
				}
				if err := c.Get(ctx, client.ObjectKeyFromObject(space), space); err != nil {
					return false, err.Error()
				}
				cond := meta.FindStatusCondition(space.Status.Conditions, collabv1.ForumReadyCondition)
				return dep.Status.AvailableReplicas == 1 && cond != nil && cond.Status == metav1.ConditionTrue,
					fmt.Sprintf("available=%d ForumReady=%v", dep.Status.AvailableReplicas, cond)
			})
			// No person made the forum's API token: the environment only plays the
			// pod's setup (the admin account); the operator minted the token.
			secret := &corev1.Secret{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: name, Name: forumdeploy.AdminSecretName(name)}, secret); err != nil ||
				len(secret.Data["token"]) == 0 || len(secret.Data["uid"]) == 0 {
				t.Errorf("the forum's admin Secret holds no token and uid the operator minted (%v)", err)
			}

			if err := c.Delete(ctx, space); err != nil {
				t.Fatal(err)
			}
			wait.Eventually(t, time.Minute, "the space to be gone", func() (bool, string) {
				err := c.Get(ctx, client.ObjectKeyFromObject(space), space)
				return apierrors.IsNotFound(err), fmt.Sprint(err)
			})
			gone := func(obj client.Object) func() (bool, string) {
				return func() (bool, string) {
					err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
					return apierrors.IsNotFound(err), fmt.Sprint(err)
				}
			}
			wait.Eventually(t, time.Minute, "the Service to be gone", gone(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: name}}))
			wait.Eventually(t, time.Minute, "the NetworkPolicy to be gone", gone(&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: name}}))
			wait.Eventually(t, 2*time.Minute, "the forum's pods to be gone", func() (bool, string) {
				var pods corev1.PodList
				if err := c.List(ctx, &pods, client.InNamespace(name), client.MatchingLabels(forumdeploy.Labels(name))); err != nil {
					return false, err.Error()
				}
				return len(pods.Items) == 0, fmt.Sprintf("%d pods left", len(pods.Items))
			})
			pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.VolumeName(name), Namespace: name}}
			if policy == collabv1.DeletionPolicyDelete {
				wait.Eventually(t, 2*time.Minute, "the volume claim to be gone", gone(pvc))
				wait.Eventually(t, time.Minute, "the Deployment to be gone", gone(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: name}}))
				return
			}
			// Archive: the data stays, and the forum can be scaled up again.
			time.Sleep(3 * time.Second) // give the garbage collector a chance to do wrong
			if err := c.Get(ctx, client.ObjectKeyFromObject(pvc), pvc); err != nil || !pvc.DeletionTimestamp.IsZero() {
				t.Fatalf("the forum's volume claim was not kept under Archive: %v %v", err, pvc.DeletionTimestamp)
			}
			if pvc.Status.Phase != corev1.ClaimBound {
				t.Errorf("the kept claim is %s, want Bound", pvc.Status.Phase)
			}
			dep := &appsv1.Deployment{}
			if err := c.Get(ctx, key, dep); err != nil || *dep.Spec.Replicas != 0 || len(dep.OwnerReferences) != 0 {
				t.Errorf("archived Deployment: %v, want kept at 0 replicas without owner", err)
			}
		})
	}
}
