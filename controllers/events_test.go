package controllers

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestEveryChangeShowsInTheSpacesEvents: a lead reading `kubectl get events` or
// `kubectl describe` after creating a space sees every room and every RBAC object
// the operator made, not one event (x2) hiding the others. The events API folds
// events with the same reason and action into one series that keeps the first
// note only; a pass announces its changes once per reason, listing them all.
func TestEveryChangeShowsInTheSpacesEvents(t *testing.T) {
	ns := newNamespace(t)
	space := chatSpace(ns, "events", collabv1.VisibilityDepartment,
		collabv1.Room{Name: "general"}, collabv1.Room{Name: "announcements", Posting: collabv1.PostingOwners},
		collabv1.Room{Name: "random"})
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	for _, room := range []string{"general", "announcements", "random"} {
		waitEvent(t, space, "RoomCreated", "#"+ns+".events."+room+":")
	}
	for _, obj := range space.Status.Permissions.Roles {
		waitEvent(t, space, "Created", "Role "+obj)
	}
	for _, obj := range space.Status.Permissions.RoleBindings {
		waitEvent(t, space, "Created", "RoleBinding "+obj)
	}
}
