package directory

import (
	"context"
	"encoding/json"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// StaticSource serves the groups and people a PeopleDirectory lists in YAML.
type StaticSource struct {
	spec  collabv1.StaticDirectory
	token string
}

// NewStatic returns a source for spec; its token is a digest of the spec, so it
// changes when the YAML does.
func NewStatic(spec collabv1.StaticDirectory) *StaticSource {
	b, _ := json.Marshal(spec)
	return &StaticSource{spec: spec, token: Group{Found: true, People: []Person{{Username: string(b)}}}.Digest()}
}

// Token is a digest of the spec.
func (s *StaticSource) Token(context.Context) (string, string, error) { return s.token, "Static", nil }

// Resolve looks the groups up in the spec. Members that are not listed people
// are ignored; nested groups resolve, cycles included.
func (s *StaticSource) Resolve(_ context.Context, groups []string) (map[string]Group, error) {
	people := map[string]Person{}
	for _, p := range s.spec.People {
		people[p.Username] = Person{Username: p.Username, Email: p.Email}
	}
	g := graph{people: map[string][]Person{}, subgroups: map[string][]string{}}
	known := map[string]bool{}
	for _, grp := range s.spec.Groups {
		known[grp.Name] = true
		for _, m := range grp.Members {
			if p, ok := people[m]; ok {
				g.people[grp.Name] = append(g.people[grp.Name], p)
			}
		}
		g.subgroups[grp.Name] = grp.Groups
	}
	out := map[string]Group{}
	for _, name := range groups {
		if !known[name] {
			out[name] = Group{}
			continue
		}
		out[name] = Group{Found: true, People: g.resolve(name)}
	}
	return out, nil
}

// Close does nothing.
func (s *StaticSource) Close() error { return nil }
