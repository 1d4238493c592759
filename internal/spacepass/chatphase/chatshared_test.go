package chatphase

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

func TestSharedLinks(t *testing.T) {
	withMarketing := []collabv1.SpaceReference{{Namespace: "mkt", Name: "marketing"}}
	marketing := recordedSpace("mkt", "marketing", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	type want struct{ link, unlink []string }
	cases := map[string]struct {
		others []collabv1.CollaborationSpace
		want   want
	}{
		"a room shared with marketing, as its space recorded it, is linked": {
			others: []collabv1.CollaborationSpace{recordedSpace("eng", "engineering", collabv1.VisibilityDepartment,
				collabv1.Room{Name: "general"}, collabv1.Room{Name: "platform-sync", SharedWith: withMarketing})},
			want: want{link: []string{"!platform-sync-engineering"}, unlink: []string{"!general-engineering"}},
		},
		"sharing stopped: the room is unlinked": {
			others: []collabv1.CollaborationSpace{recordedSpace("eng", "engineering", collabv1.VisibilityDepartment,
				collabv1.Room{Name: "platform-sync"})},
			want: want{unlink: []string{"!platform-sync-engineering"}},
		},
		"a shared room not recorded yet is not linked": {
			others: func() []collabv1.CollaborationSpace {
				s := recordedSpace("eng", "engineering", collabv1.VisibilityDepartment,
					collabv1.Room{Name: "platform-sync", SharedWith: withMarketing})
				s.Status.Chat = nil
				return []collabv1.CollaborationSpace{s}
			}(),
		},
		"a hostile space naming marketing links only its own room, never the room of the same name elsewhere": {
			others: []collabv1.CollaborationSpace{
				recordedSpace("eng", "engineering", collabv1.VisibilityDepartment, collabv1.Room{Name: "platform-sync"}),
				recordedSpace("evil", "hostile", collabv1.VisibilityDepartment,
					collabv1.Room{Name: "platform-sync", SharedWith: withMarketing}),
			},
			want: want{link: []string{"!platform-sync-hostile"}, unlink: []string{"!platform-sync-engineering"}},
		},
		"a Private space's room is not linked (sharing admits no one to it)": {
			others: []collabv1.CollaborationSpace{recordedSpace("hr", "hr", collabv1.VisibilityPrivate,
				collabv1.Room{Name: "cases", SharedWith: withMarketing})},
			want: want{unlink: []string{"!cases-hr"}},
		},
		"marketing's own rooms are neither linked again nor unlinked": {
			others: []collabv1.CollaborationSpace{marketing},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			link, unlink := sharedLinks(&marketing, tc.others)
			if diff := cmp.Diff(tc.want, want{link, unlink}, cmp.AllowUnexported(want{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// recordedSpace is a space whose status records each room as "!<name>-<space>".
func recordedSpace(ns, name string, v collabv1.Visibility, rooms ...collabv1.Room) collabv1.CollaborationSpace {
	s := collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       collabv1.CollaborationSpaceSpec{Visibility: v, Chat: &collabv1.ChatSpec{Rooms: rooms}},
		Status:     collabv1.CollaborationSpaceStatus{Chat: &collabv1.ChatStatus{SpaceID: "!" + name}},
	}
	for _, r := range rooms {
		s.Status.Chat.Rooms = append(s.Status.Chat.Rooms, collabv1.RoomStatus{Name: r.Name, RoomID: "!" + r.Name + "-" + name})
	}
	return s
}
