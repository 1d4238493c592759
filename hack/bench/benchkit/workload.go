package benchkit

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// workload is what both sides make: spaces departments of rooms rooms each, every
// department led by one of owners people (who get an invite), plus a group member
// (which reaches RBAC, not Matrix).
type Workload struct {
	Spaces, Rooms, Owners int
}

var roomNames = []string{"general", "announcements", "random", "help", "social"}

func (w Workload) SpaceName(i int) string  { return fmt.Sprintf("dept-%04d", i) }
func (w Workload) Namespace(i int) string  { return "bench-" + w.SpaceName(i) }
func (w Workload) Department(i int) string { return fmt.Sprintf("Department %d", i) }
func (w Workload) Description(i int) string {
	return fmt.Sprintf("Where department %d talks in the open.", i)
}

func (w Workload) RoomName(j int) string {
	if j < len(roomNames) {
		return roomNames[j]
	}
	return fmt.Sprintf("room-%d", j)
}

func (w Workload) RoomTopic(i, j int) string {
	return fmt.Sprintf("%s of department %d", w.RoomName(j), i)
}

func (w Workload) OwnerLocalpart(i int) string { return fmt.Sprintf("lead-%02d", i%w.Owners) }

func (w Workload) OwnerID(i int, serverName string) string {
	return "@" + w.OwnerLocalpart(i) + ":" + serverName
}

// totalRooms counts every room made, space rooms included.
func (w Workload) TotalRooms() int { return w.Spaces * (w.Rooms + 1) }

// space is the CollaborationSpace of department i.
func (w Workload) Space(i int, backend string) *collabv1.CollaborationSpace {
	rooms := make([]collabv1.Room, w.Rooms)
	for j := range rooms {
		rooms[j] = collabv1.Room{Name: w.RoomName(j), Topic: w.RoomTopic(i, j)}
	}
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: w.SpaceName(i), Namespace: w.Namespace(i)},
		Spec: collabv1.CollaborationSpaceSpec{
			Department:  w.Department(i),
			Description: w.Description(i),
			Visibility:  collabv1.VisibilityDepartment,
			Members: []collabv1.Member{
				{Kind: collabv1.SubjectUser, Name: w.OwnerLocalpart(i), Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectGroup, Name: w.SpaceName(i) + "-staff", Role: collabv1.RoleMember},
			},
			Chat: &collabv1.ChatSpec{
				BackendRef: &collabv1.LocalObjectReference{Name: backend},
				Rooms:      rooms,
			},
		},
	}
}
