package main

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// workload is what both sides make: spaces departments of rooms rooms each, every
// department led by one of owners people (who get an invite), plus a group member
// (which reaches RBAC, not Matrix).
type workload struct {
	spaces, rooms, owners int
}

var roomNames = []string{"general", "announcements", "random", "help", "social"}

func (w workload) spaceName(i int) string  { return fmt.Sprintf("dept-%04d", i) }
func (w workload) namespace(i int) string  { return "bench-" + w.spaceName(i) }
func (w workload) department(i int) string { return fmt.Sprintf("Department %d", i) }
func (w workload) description(i int) string {
	return fmt.Sprintf("Where department %d talks in the open.", i)
}

func (w workload) roomName(j int) string {
	if j < len(roomNames) {
		return roomNames[j]
	}
	return fmt.Sprintf("room-%d", j)
}

func (w workload) roomTopic(i, j int) string {
	return fmt.Sprintf("%s of department %d", w.roomName(j), i)
}

func (w workload) ownerLocalpart(i int) string { return fmt.Sprintf("lead-%02d", i%w.owners) }

func (w workload) ownerID(i int, serverName string) string {
	return "@" + w.ownerLocalpart(i) + ":" + serverName
}

// totalRooms counts every room made, space rooms included.
func (w workload) totalRooms() int { return w.spaces * (w.rooms + 1) }

// space is the CollaborationSpace of department i.
func (w workload) space(i int, backend string) *collabv1.CollaborationSpace {
	rooms := make([]collabv1.Room, w.rooms)
	for j := range rooms {
		rooms[j] = collabv1.Room{Name: w.roomName(j), Topic: w.roomTopic(i, j)}
	}
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: w.spaceName(i), Namespace: w.namespace(i)},
		Spec: collabv1.CollaborationSpaceSpec{
			Department:  w.department(i),
			Description: w.description(i),
			Visibility:  collabv1.VisibilityDepartment,
			Members: []collabv1.Member{
				{Kind: collabv1.SubjectUser, Name: w.ownerLocalpart(i), Role: collabv1.RoleOwner},
				{Kind: collabv1.SubjectGroup, Name: w.spaceName(i) + "-staff", Role: collabv1.RoleMember},
			},
			Chat: &collabv1.ChatSpec{
				BackendRef: &collabv1.LocalObjectReference{Name: backend},
				Rooms:      rooms,
			},
		},
	}
}
