package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ConditionsOf returns the space's conditions, for the status patch helper
// (internal/statuspatch) to keep each writer to the condition types it owns.
func (s *CollaborationSpace) ConditionsOf() *[]metav1.Condition { return &s.Status.Conditions }

// ConditionsOf returns the backend's conditions.
func (b *ChatBackend) ConditionsOf() *[]metav1.Condition { return &b.Status.Conditions }

// ConditionsOf returns the backend's conditions.
func (b *ForumBackend) ConditionsOf() *[]metav1.Condition { return &b.Status.Conditions }

// ConditionsOf returns the directory's conditions.
func (d *PeopleDirectory) ConditionsOf() *[]metav1.Condition { return &d.Status.Conditions }
