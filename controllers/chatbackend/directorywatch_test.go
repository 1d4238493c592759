package chatbackend

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestDirectoryChanged: only events that can change an Open-space directory cost a
// ChatBackend a pass.
func TestDirectoryChanged(t *testing.T) {
	space := func(v collabv1.Visibility, spaceID string, deleting bool) *collabv1.CollaborationSpace {
		s := &collabv1.CollaborationSpace{Spec: collabv1.CollaborationSpaceSpec{Visibility: v}}
		if spaceID != "" {
			s.Status.Chat = &collabv1.ChatStatus{SpaceID: spaceID}
		}
		if deleting {
			now := metav1.Now()
			s.DeletionTimestamp = &now
		}
		return s
	}
	open, dept := collabv1.VisibilityOpen, collabv1.VisibilityDepartment
	updates := []struct {
		name     string
		old, cur *collabv1.CollaborationSpace
		want     bool
	}{
		{"an Open space gets its space room", space(open, "", false), space(open, "!s", false), true},
		{"a Department space gets its space room", space(dept, "", false), space(dept, "!s", false), false},
		{"a space turns Open", space(dept, "!s", false), space(open, "!s", false), true},
		{"a space stops being Open", space(open, "!s", false), space(dept, "!s", false), true},
		{"an Open space's status changes otherwise", space(open, "!s", false), space(open, "!s", false), false},
		{"an Open space is being deleted", space(open, "!s", false), space(open, "!s", true), true},
		{"a Department space is being deleted", space(dept, "!s", false), space(dept, "!s", true), false},
	}
	p := directoryChanged()
	for _, tc := range updates {
		if got := p.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.cur}); got != tc.want {
			t.Errorf("%s: Update = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v    collabv1.Visibility
		want bool
	}{{open, true}, {dept, false}, {collabv1.VisibilityPrivate, false}} {
		s := space(tc.v, "", false)
		if got := p.Create(event.CreateEvent{Object: s}); got != tc.want {
			t.Errorf("create of a %s space: %v, want %v", tc.v, got, tc.want)
		}
		if got := p.Delete(event.DeleteEvent{Object: s}); got != tc.want {
			t.Errorf("delete of a %s space: %v, want %v", tc.v, got, tc.want)
		}
	}
}
