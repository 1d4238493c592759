package plan

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

// memberLevels maps each User member and each resolved person to a Matrix user
// id and power level; the highest role wins.
func (p *Planner) memberLevels(members []collabv1.Member, people []chat.Person, ownerLevel int) (map[string]int, error) {
	tmpl, err := p.userIDTemplate()
	if err != nil {
		return nil, err
	}
	users := map[string]int{}
	for _, m := range append(slices.Clone(members), personMembers(people)...) {
		if m.Kind != collabv1.SubjectUser {
			continue
		}
		id, err := userID(tmpl, m)
		if err != nil {
			return nil, err
		}
		users[id] = max(users[id], roleLevel(m.Role, ownerLevel))
	}
	return users, nil
}

func personMembers(people []chat.Person) []collabv1.Member {
	out := make([]collabv1.Member, 0, len(people))
	for _, p := range people {
		out = append(out, collabv1.Member{Kind: collabv1.SubjectUser, Name: p.Name, Role: p.Role})
	}
	return out
}

// MapPeople implements chat.Planner: people whose name maps to a Matrix user id
// through the backend's template, and those it does not (a directory may hold
// names with capitals or spaces): one odd entry in a directory must not stop a
// space. It fails only when the template itself is broken.
func (p *Planner) MapPeople(people []chat.Person) (mapped []chat.Person, unmapped []string, err error) {
	tmpl, err := p.userIDTemplate()
	if err != nil {
		return nil, nil, err
	}
	for _, person := range people {
		if _, err := userID(tmpl, personMembers([]chat.Person{person})[0]); err != nil {
			unmapped = append(unmapped, person.Name)
			continue
		}
		mapped = append(mapped, person)
	}
	return mapped, unmapped, nil
}

// UserID renders one person's Matrix user id through the backend's template.
func (p *Planner) UserID(person chat.Person) (string, error) {
	tmpl, err := p.userIDTemplate()
	if err != nil {
		return "", err
	}
	return userID(tmpl, personMembers([]chat.Person{person})[0])
}

func (p *Planner) userIDTemplate() (*template.Template, error) {
	return parseUserIDTemplate(p.cfg.UserIDTemplate, p.cfg.ServerName)
}

func roleLevel(r collabv1.Role, ownerLevel int) int {
	switch r {
	case collabv1.RoleOwner:
		return ownerLevel
	case collabv1.RoleModerator:
		return levelModerator
	default:
		return levelMember
	}
}

// userIDPattern is the Matrix user id grammar (historical localparts excluded).
var userIDPattern = regexp.MustCompile(`^@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(:[0-9]{1,5})?$`)

// parseUserIDTemplate parses a ChatBackend's userIDTemplate. Besides the member
// (.Name, .Kind, .Role, .Namespace) it offers "lower" and "replace" (strings.ToLower,
// strings.ReplaceAll), since cluster user names are often e-mail addresses.
func parseUserIDTemplate(text, serverName string) (*template.Template, error) {
	if text == "" {
		text = "@{{.Name}}:" + serverName
	}
	funcs := template.FuncMap{"lower": strings.ToLower, "replace": strings.ReplaceAll}
	t, err := template.New("userIDTemplate").Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("cannot parse userIDTemplate %q: %w", text, err)
	}
	return t, nil
}

// userID renders a member's Matrix user id and checks it is one.
func userID(tmpl *template.Template, m collabv1.Member) (string, error) {
	var b strings.Builder
	if err := tmpl.Execute(&b, m); err != nil {
		return "", fmt.Errorf("cannot map member %q to a Matrix user id: %w", m.Name, err)
	}
	id := b.String()
	if !userIDPattern.MatchString(id) {
		return "", fmt.Errorf("member %q maps to %q, which is not a Matrix user id "+
			"(@localpart:server, lower case): fix the member name or the ChatBackend's userIDTemplate", m.Name, id)
	}
	return id, nil
}
