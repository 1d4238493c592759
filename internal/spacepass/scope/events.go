package scope

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// RecordOperation notes a change the pass made to an owned object, so `kubectl
// describe` tells a department lead what happened to their space and why.
func (r *Kit) RecordOperation(obj runtime.Object, kind, name string, op controllerutil.OperationResult) {
	reason, action := operationReason(op)
	if reason == "" {
		return
	}
	r.Changes.add(obj, reason, action, fmt.Sprintf("%s %s %s", reason, kind, name))
}

// RecordChange notes a change the pass made on a backend, e.g. a room created.
func (r *Kit) RecordChange(obj runtime.Object, reason, action, note string, args ...any) {
	r.Changes.add(obj, reason, action, fmt.Sprintf(note, args...))
}

// AnnounceChanges emits the changes the pass made to obj: one Normal event per
// reason, listing every change of that reason. Every room, Role and category
// made shows in `kubectl get events`, and a pass that makes five objects sends
// one event per kind of change rather than five (issue 22 counted an event
// per object at 10,000 spaces).
func (r *Kit) AnnounceChanges(obj runtime.Object) {
	for _, c := range r.Changes.take(obj) {
		note := joinNotes(c.notes)
		r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, c.reason, seriesAction(c.action, note), "%s", note)
	}
}

// maxNoteLength is the events API's limit on an event's note.
const maxNoteLength = 1024

// joinNotes joins notes with "; " within maxNoteLength, saying how many more
// there were when they do not fit.
func joinNotes(notes []string) string {
	var b strings.Builder
	for i, n := range notes {
		more := fmt.Sprintf("; and %d more", len(notes)-i)
		sep := ""
		if i > 0 {
			sep = "; "
		}
		if b.Len()+len(sep)+len(n)+len(more) > maxNoteLength && i < len(notes)-1 ||
			b.Len()+len(sep)+len(n) > maxNoteLength {
			b.WriteString(more)
			break
		}
		b.WriteString(sep + n)
	}
	return b.String()
}

// PassChanges holds, per object, the changes of the pass in flight, in order.
type PassChanges struct {
	mu       sync.Mutex
	byObject map[types.UID][]*changeGroup
}

// changeGroup is the changes of one reason in one pass.
type changeGroup struct {
	reason, action string
	notes          []string
}

func (p *PassChanges) add(obj runtime.Object, reason, action, note string) {
	uid := uidOf(obj)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byObject == nil {
		p.byObject = map[types.UID][]*changeGroup{}
	}
	for _, g := range p.byObject[uid] {
		if g.reason == reason && g.action == action {
			g.notes = append(g.notes, note)
			return
		}
	}
	p.byObject[uid] = append(p.byObject[uid], &changeGroup{reason: reason, action: action, notes: []string{note}})
}

// take returns and forgets obj's changes.
func (p *PassChanges) take(obj runtime.Object) []*changeGroup {
	uid := uidOf(obj)
	p.mu.Lock()
	defer p.mu.Unlock()
	groups := p.byObject[uid]
	delete(p.byObject, uid)
	return groups
}

func uidOf(obj runtime.Object) types.UID {
	if m, err := meta.Accessor(obj); err == nil {
		return m.GetUID()
	}
	return ""
}

// RecordWarning emits a warning event, for what a user should look at.
func (r *Kit) RecordWarning(obj runtime.Object, reason, action, note string, args ...any) {
	r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, reason, seriesAction(action, fmt.Sprintf(note, args...)), note, args...)
}

// maxActionLength is the events API's limit on an event's action.
const maxActionLength = 128

// seriesAction names what an event acted on in its action. The events API folds
// events with the same object, reason and action into one series that keeps the
// first note only, so "Created room …general" in one pass and "Created room
// …announcements" in the next would show in kubectl describe as one event (x2),
// hiding the second. With the target in the action each is an event of its own;
// the same change repeated (a topic put back twice) still folds into one series.
func seriesAction(action, target string) string {
	s := action + ": " + target
	if len(s) <= maxActionLength {
		return s
	}
	s = s[:maxActionLength]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	// A copy of its own: the recorder keeps each event for minutes, and the
	// cut would keep the whole of action and target (2.5 MiB at 10,000 spaces).
	return strings.Clone(s)
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
