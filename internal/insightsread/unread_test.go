package insightsread

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	chatfake "github.com/opencommons/collab-operator/internal/chat/fake"
	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/testing/chattest"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// histories is a chat client whose rooms' history is messages, or fails.
type histories struct {
	chatfake.Client
	messages map[string][]insights.Message
}

func (h *histories) History(_ context.Context, room string, _ chat.HistoryRange) ([]insights.Message, bool, error) {
	msgs, ok := h.messages[room]
	if !ok {
		return nil, false, errors.New("M_FORBIDDEN: the operator is not in the room")
	}
	return msgs, true, nil
}

func (h *histories) Sender(context.Context, string, string) (string, error) { return "", nil }

// TestOneUnreadableSpaceHidesNoOther: the manager reads the insights on its
// own every hour, so a space whose backend is gone, or a room the operator
// was removed from, is reported as not read (and why), and every other room
// is still counted.
func TestOneUnreadableSpaceHidesNoOther(t *testing.T) {
	chatSpace := func(name, backend string, rooms ...string) *collabv1.CollaborationSpace {
		s := &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: name},
			Spec: collabv1.CollaborationSpaceSpec{Department: name, Members: []collabv1.Member{
				{Kind: collabv1.SubjectUser, Name: "ana", Role: collabv1.RoleOwner}},
				Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: backend}}},
			Status: collabv1.CollaborationSpaceStatus{Chat: &collabv1.ChatStatus{SpaceID: "!" + name + ":x"}}}
		for _, r := range rooms {
			s.Spec.Chat.Rooms = append(s.Spec.Chat.Rooms, collabv1.Room{Name: r})
			s.Status.Chat.Rooms = append(s.Status.Chat.Rooms, collabv1.RoomStatus{Name: r, RoomID: "!" + name + "-" + r + ":x"})
		}
		return s
	}
	c := fakeclient.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(
		chattest.Backend(),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "collab-system", Name: "chat-creds"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "research"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "sales"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "legal"}},
		chatSpace("research", "chat", "general", "kicked"),
		chatSpace("sales", "chat", "general"),
		chatSpace("legal", "gone", "general"),
	).WithStatusSubresource(&collabv1.CollaborationSpace{}).Build()
	said := insights.Message{ID: "$1", Room: "!research-general:x", Sender: "@ana:x", At: time.Now()}
	server := &histories{messages: map[string][]insights.Message{
		"!research-general:x": {said}, "!sales-general:x": {{ID: "$2", Room: "!sales-general:x", Sender: "@ana:x", At: time.Now()}}}}

	in, err := Read(context.Background(), c, time.Now().Add(-time.Hour),
		Options{Chat: &chattest.Connector{C: server}, CredentialsNamespace: "collab-system"})
	if err != nil {
		t.Fatalf("Read failed as a whole: %v", err)
	}
	if why := in.Unread["research/research"]; !strings.Contains(why, "room kicked") {
		t.Errorf("research's unread room: %q, want it named", why)
	}
	if why := in.Unread["legal/legal"]; !strings.Contains(why, "gone") {
		t.Errorf("legal's missing backend: %q, want it named", why)
	}
	if _, ok := in.Unread["sales/sales"]; ok || len(in.Messages) != 2 {
		t.Errorf("unread %v, %d messages; want sales read and both readable rooms counted", in.Unread, len(in.Messages))
	}
}
