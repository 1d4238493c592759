package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestAnUpdateMayNotPinABackendBeingDeleted: a space may not start naming a
// ChatBackend or ForumBackend that is being deleted, whether it is created so
// or updated to: backendRef cannot be removed again, so a space that added it
// would keep the backend from going for as long as the space lives. A space
// that already named the backend keeps it: carrying out its deletionPolicy needs
// the backend.
func TestAnUpdateMayNotPinABackendBeingDeleted(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
		Labels: map[string]string{"kubernetes.io/metadata.name": ns}}}
	deleting := metav1.ObjectMeta{DeletionTimestamp: ptr.To(metav1.Now()), Finalizers: []string{"x"}}
	chatB := &collabv1.ChatBackend{ObjectMeta: deleting}
	chatB.Name = "company-matrix"
	forumB := &collabv1.ForumBackend{ObjectMeta: deleting}
	forumB.Name = "company-forum"
	onForumBackend := func(s *collabv1.CollaborationSpace) {
		s.Spec.Forum = &collabv1.ForumSpec{BackendRef: &collabv1.LocalObjectReference{Name: "company-forum"}}
	}
	noChat := func(s *collabv1.CollaborationSpace) { s.Spec.Chat = nil }
	noForum := func(s *collabv1.CollaborationSpace) { s.Spec.Forum = nil }
	chatRefused := Violation{Source: "ChatBackend/company-matrix", Field: "spec.chat.backendRef",
		Message: "spec.chat.backendRef: ChatBackend company-matrix is being deleted"}
	forumRefused := Violation{Source: "ForumBackend/company-forum", Field: "spec.forum.backendRef",
		Message: "spec.forum.backendRef: ForumBackend company-forum is being deleted"}

	tests := map[string]struct {
		old, space *collabv1.CollaborationSpace
		op         Operation
		want       []Violation
	}{
		"chat added by an update": {
			old: space(noChat, noForum), space: space(noForum), op: Update, want: []Violation{chatRefused},
		},
		"chat backendRef added to rooms-less chat by an update": {
			old:   space(noForum, func(s *collabv1.CollaborationSpace) { s.Spec.Chat = &collabv1.ChatSpec{} }),
			space: space(noForum), op: Update, want: []Violation{chatRefused},
		},
		"forum backendRef added by an update": {
			old: space(noChat, noForum), space: space(noChat, onForumBackend), op: Update, want: []Violation{forumRefused},
		},
		"an update of a space that already named it": {
			old: space(noForum), space: space(noForum, func(s *collabv1.CollaborationSpace) {
				s.Spec.Chat.Rooms = append(s.Spec.Chat.Rooms, collabv1.Room{Name: "more"})
			}), op: Update,
		},
		"a stored space judged whole (no old object)": {
			space: space(noForum), op: Update,
		},
		"a create": {
			space: space(noForum), op: Create, want: []Violation{chatRefused},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := Input{Space: mustUnstructured(t, tc.space, "CollaborationSpace"), Namespace: namespace, Operation: tc.op,
				Params: []*unstructured.Unstructured{mustUnstructured(t, chatB, "ChatBackend"), mustUnstructured(t, forumB, "ForumBackend")}}
			if tc.old != nil {
				in.Old = mustUnstructured(t, tc.old, "CollaborationSpace")
			}
			if diff := cmp.Diff(tc.want, e.Evaluate(t.Context(), in)); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}
