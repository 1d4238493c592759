package controllers

import (
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
	r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, action, "%s %s %s", reason, kind, name)
}

// recordChange emits one event for a change made on a backend, e.g. a room created.
func (r *CollaborationSpaceReconciler) recordChange(obj runtime.Object, reason, action, note string, args ...any) {
	r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, action, note, args...)
}

// recordWarning emits a warning event, for what a user should look at.
func (r *CollaborationSpaceReconciler) recordWarning(obj runtime.Object, reason, action, note string, args ...any) {
	r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, reason, action, note, args...)
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
