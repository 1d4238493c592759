package controllers

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// TestAnUpdateCannotPinABackendBeingDeleted: while a ChatBackend is being
// deleted, a space that had no chat is updated to name it (admission refuses
// that where config/admission is installed; this suite has none, as a cluster
// without it). backendRef cannot be removed again, so if the space counted as a
// user it would keep the backend for as long as it lives. It must not start on
// the backend (Stalled, PolicyViolation), and the backend goes once the spaces
// that hold rooms on it are gone.
func TestAnUpdateCannotPinABackendBeingDeleted(t *testing.T) {
	ctx := testCtx(t)
	suite := &collabv1.ChatBackend{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: testBackend}, suite); err != nil {
		t.Fatal(err)
	}
	doomed := &collabv1.ChatBackend{ObjectMeta: metav1.ObjectMeta{Name: "pinned-matrix"}, Spec: *suite.Spec.DeepCopy()}
	doomed.Spec.Matrix.DirectorySpace = nil
	if err := k8sClient.Create(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t)
	keeper := chatSpace(ns, "keeper", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	keeper.Spec.Chat.BackendRef.Name = doomed.Name
	createSpace(t, keeper)
	waitReady(t, client.ObjectKeyFromObject(keeper))
	latecomer := chatSpace(ns, "latecomer", collabv1.VisibilityDepartment)
	latecomer.Spec.Chat = nil
	createSpace(t, latecomer)
	waitReady(t, client.ObjectKeyFromObject(latecomer))
	waitUsedBy(t, doomed, ns+"/keeper")

	if err := k8sClient.Delete(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, doomed, "InUse", ns+"/keeper")
	updateSpace(t, latecomer, func(s *collabv1.CollaborationSpace) {
		s.Spec.Chat = &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: doomed.Name},
			Rooms: []collabv1.Room{{Name: "general"}}}
	}, false)

	eventually(t, "the latecomer to be refused the backend being deleted", func() (bool, string) {
		got := getSpace(t, latecomer)
		c := meta.FindStatusCondition(got.Status.Conditions, collabv1.PolicyCompliantCondition)
		if c == nil {
			return false, "no PolicyCompliant condition"
		}
		return c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "ChatBackend pinned-matrix is being deleted"),
			fmt.Sprintf("%s %s: %s", c.Status, c.Reason, c.Message)
	})
	if got := getSpace(t, latecomer); got.Status.Chat != nil {
		t.Errorf("the latecomer made rooms on a backend being deleted: %+v", got.Status.Chat)
	}
	waitUsedBy(t, doomed, ns+"/keeper")

	if err := k8sClient.Delete(ctx, keeper); err != nil {
		t.Fatal(err)
	}
	gone(t, keeper, "the keeper")
	gone(t, doomed, "ChatBackend "+doomed.Name+", which only the latecomer still names")
	alias := "#" + ns + ".latecomer.general:" + homeserver.ServerName
	var notFound *matrixuser.Error
	if id, err := operator.ResolveAlias(ctx, alias); id != "" || (err != nil && (!errors.As(err, &notFound) || notFound.Status != 404)) {
		t.Errorf("alias %s points at %q (%v), want no room made for the latecomer", alias, id, err)
	}
}
