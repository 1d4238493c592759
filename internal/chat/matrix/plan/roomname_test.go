package plan

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

// TestRoomNamesSayWhichDepartment: someone in three departments sees their
// rooms by display name; three rooms called "general" cannot be told apart.
// By default a room's name leads with its department; the ChatBackend may set
// another template. Aliases never change with the name.
func TestRoomNamesSayWhichDepartment(t *testing.T) {
	space := &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Name: "eng", Namespace: "dept-eng"},
		Spec: collabv1.CollaborationSpaceSpec{Department: "Engineering", Chat: &collabv1.ChatSpec{
			Rooms: []collabv1.Room{{Name: "general"}, {Name: "platform-sync"}}}}}
	tests := map[string]struct {
		template  string
		want      []string
		wantError string
	}{
		"the default leads with the department": {want: []string{"Engineering · general", "Engineering · platform-sync"}},
		"a template of the backend's":           {template: "{{.Room}} ({{.Department}})", want: []string{"general (Engineering)", "platform-sync (Engineering)"}},
		"the room's name alone, as before":      {template: "{{.Room}}", want: []string{"general", "platform-sync"}},
		"namespace and space are there too":     {template: "{{.Namespace}}/{{.Space}}: {{.Room}}", want: []string{"dept-eng/eng: general", "dept-eng/eng: platform-sync"}},
		"a broken template stalls the space":    {template: "{{.Room", wantError: "cannot parse roomNameTemplate"},
		"an unknown field stalls the space":     {template: "{{.Team}} {{.Room}}", wantError: "roomNameTemplate"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := New(Config{ServerName: "example.org", RoomNameTemplate: tc.template})
			spaceRoom, rooms, err := p.DesiredRooms(space, chat.DesiredInput{})
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if spaceRoom.Name != "Engineering" {
				t.Errorf("the space is named %q, want the department", spaceRoom.Name)
			}
			var got []string
			for i, r := range rooms {
				got = append(got, r.Name)
				if want := "#dept-eng.eng." + space.Spec.Chat.Rooms[i].Name + ":example.org"; r.CanonicalAlias != want {
					t.Errorf("alias %q, want %q whatever the name", r.CanonicalAlias, want)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("names %q, want %q", got, tc.want)
			}
		})
	}
}
