package plan

import (
	"fmt"
	"slices"
	"strings"
	"text/template"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// DefaultRoomNameTemplate names a room after its department first, so that
// someone in several departments can tell their "general" rooms apart.
const DefaultRoomNameTemplate = "{{.Department}} · {{.Room}}"

// roomNameData is what a ChatBackend's roomNameTemplate may use.
type roomNameData struct {
	Department, Namespace, Space, Room string
}

// roomNames returns the display name of each of the space's rooms. A template
// that does not parse or render is an error of the space, like a broken
// userIDTemplate: it stalls the spaces of the backend until fixed.
func (p *Planner) roomNames(space *collabv1.CollaborationSpace) ([]string, error) {
	text := p.cfg.RoomNameTemplate
	if text == "" {
		text = DefaultRoomNameTemplate
	}
	tmpl, err := template.New("roomNameTemplate").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("cannot parse roomNameTemplate %q: %w", text, err)
	}
	if space.Spec.Chat == nil {
		return nil, nil
	}
	names := make([]string, 0, len(space.Spec.Chat.Rooms))
	for _, r := range space.Spec.Chat.Rooms {
		var b strings.Builder
		data := roomNameData{Department: space.Spec.Department, Namespace: space.Namespace, Space: space.Name, Room: r.Name}
		if err := tmpl.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("cannot render roomNameTemplate %q: %w", text, err)
		}
		names = append(names, strings.TrimSpace(b.String()))
	}
	return names, nil
}

// priorNames are the names the operator gave a room before its current one:
// the room's own name (before rooms were named after their department), and
// the default naming (before the backend set roomNameTemplate). A room still
// so named is renamed without being reported as changed by hand.
func priorNames(space *collabv1.CollaborationSpace, room, current string) []string {
	var out []string
	for _, n := range []string{room, space.Spec.Department + " · " + room} {
		if n != current && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
