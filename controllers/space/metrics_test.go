package space

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

func TestCountConditions(t *testing.T) {
	withReady := func(status metav1.ConditionStatus) collabv1.CollaborationSpace {
		return collabv1.CollaborationSpace{Status: collabv1.CollaborationSpaceStatus{
			Conditions: []metav1.Condition{{Type: collabv1.ReadyCondition, Status: status}},
		}}
	}
	got := countConditions([]collabv1.CollaborationSpace{
		withReady(metav1.ConditionTrue), withReady(metav1.ConditionTrue), withReady(metav1.ConditionFalse), {},
	})
	want := map[string]int{"True": 2, "False": 1, "Absent": 1}
	if diff := cmp.Diff(want, got[collabv1.ReadyCondition]); diff != "" {
		t.Errorf("Ready counts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"Absent": 4}, got[collabv1.StalledCondition]); diff != "" {
		t.Errorf("Stalled counts (-want +got):\n%s", diff)
	}
}
