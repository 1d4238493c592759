package controllers

import (
	"testing"

	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestInvitationsPerSpaceOrPerRoom: by default a member gets one invitation, to
// the department's space, and joins its rooms from there; a ChatBackend with
// invitations PerRoom also invites every member to every room. A Private
// space's rooms are invite-only, so they are invited to each either way.
func TestInvitationsPerSpaceOrPerRoom(t *testing.T) {
	cases := map[string]struct {
		invitations collabv1.Invitations
		visibility  collabv1.Visibility
		toRooms     string // alice's membership of each room
	}{
		"default, Department": {visibility: collabv1.VisibilityDepartment, toRooms: ""},
		"default, Open":       {visibility: collabv1.VisibilityOpen, toRooms: ""},
		"default, Private":    {visibility: collabv1.VisibilityPrivate, toRooms: "invite"},
		"PerRoom, Department": {invitations: collabv1.InvitationsPerRoom, visibility: collabv1.VisibilityDepartment, toRooms: "invite"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			ns := newNamespace(t)
			backend, account := ownBackend(t, ctx, ns)
			if tc.invitations != "" {
				err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
					if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(backend), backend); err != nil {
						return err
					}
					backend.Spec.Matrix.Invitations = tc.invitations
					return k8sClient.Update(ctx, backend)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			space := chatSpace(ns, "invites", tc.visibility, collabv1.Room{Name: "general"}, collabv1.Room{Name: "random"})
			space.Spec.Chat.BackendRef.Name = backend.Name
			createSpace(t, space)
			t.Cleanup(func() { removeSpaceAndBackend(t, space, backend) })
			space = waitReady(t, client.ObjectKeyFromObject(space))

			membership := func(room string) string {
				m, err := account.Members(ctx, room) // the backend's own operator account
				if err != nil {
					t.Fatalf("cannot read the members of %s: %v", room, err)
				}
				return m[userID("alice")]
			}
			if m := membership(space.Status.Chat.SpaceID); m != "invite" {
				t.Errorf("alice is %q in the space, want invited", m)
			}
			for _, room := range []string{"general", "random"} {
				if m := membership(roomID(t, space, room)); m != tc.toRooms {
					t.Errorf("alice is %q in %s, want %q", m, room, tc.toRooms)
				}
			}
			if tc.toRooms == "" { // offered in the space: she joins in one step
				general := roomID(t, space, "general")
				if err := joinFromSpace(ctx, person(t, "alice"), space, general); err != nil {
					t.Errorf("alice cannot join %s from the space: %v", general, err)
				}
			}
		})
	}
}
