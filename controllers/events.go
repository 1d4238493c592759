package controllers

import (
	"fmt"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// recordOperation emits one event for each change the operator made, so `kubectl
// describe` tells a department lead what happened to their space and why.
func (r *CollaborationSpaceReconciler) recordOperation(obj runtime.Object, kind, name string, op controllerutil.OperationResult) {
	reason, action := operationReason(op)
	if reason == "" {
		return
	}
	r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, seriesAction(action, kind+" "+name),
		"%s %s %s", reason, kind, name)
}

// recordChange emits one event for a change made on a backend, e.g. a room created.
func (r *CollaborationSpaceReconciler) recordChange(obj runtime.Object, reason, action, note string, args ...any) {
	r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, seriesAction(action, fmt.Sprintf(note, args...)), note, args...)
}

// recordWarning emits a warning event, for what a user should look at.
func (r *CollaborationSpaceReconciler) recordWarning(obj runtime.Object, reason, action, note string, args ...any) {
	r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, reason, seriesAction(action, fmt.Sprintf(note, args...)), note, args...)
}

// maxActionLength is the events API's limit on an event's action.
const maxActionLength = 128

// seriesAction names what an event acted on in its action. The events API folds
// events with the same object, reason and action into one series that keeps the
// first note only, so "Created room …general" and "Created room …announcements"
// would show in kubectl describe as one event (x2), hiding the second. With the
// target in the action each change is an event of its own; the same change
// repeated (a topic put back twice) still folds into one series.
func seriesAction(action, target string) string {
	s := action + ": " + target
	if len(s) <= maxActionLength {
		return s
	}
	s = s[:maxActionLength]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// Operations on owned objects beyond those controllerutil reports.
const (
	opDeleted  controllerutil.OperationResult = "deleted"
	opReleased controllerutil.OperationResult = "released"
)

func operationReason(op controllerutil.OperationResult) (reason, action string) {
	switch op {
	case controllerutil.OperationResultCreated:
		return "Created", "Create"
	case controllerutil.OperationResultUpdated, controllerutil.OperationResultUpdatedStatus,
		controllerutil.OperationResultUpdatedStatusOnly:
		return "Updated", "Update"
	case opDeleted:
		return "Deleted", "Delete"
	case opReleased:
		return "Released", "Release"
	}
	return "", ""
}
