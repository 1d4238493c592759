package validate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// The cross-file checks catch what the API server cannot see, because each
// object is valid on its own:
//
//   - two spaces claiming the same department name (case-insensitively): the
//     department names the chat space and the forum's parent category, and two
//     alike would be indistinguishable to members;
//   - two rooms, spaces or directory spaces claiming the same alias on one
//     ChatBackend: aliases (#<space>, #<space>-<room>) are global to the chat
//     server, so the second space would fail with AliasConflict, or, worse,
//     adopt the other's room. Same-named spaces in two namespaces collide this
//     way, and so do space "eng" with room "platform-sync" and space
//     "eng-platform" with room "sync";
//   - a sharedWith reference to a space that is not among the files: a warning,
//     or an error with Options.StrictRefs, as the space may live elsewhere;
//   - the same object defined in two files: a warning, as only the last
//     definition would stay applied.
//
// Each conflict is reported once, on the later claimant, naming the earlier.

// spaceObject is a CollaborationSpace that could be read as the Go type.
type spaceObject struct {
	checkedObject
	space *collabv1.CollaborationSpace
}

// claim is the first claimant of a name, to point at from later ones.
type claim struct {
	by   ObjectRef
	file string
	line int
}

func (c claim) String() string {
	return fmt.Sprintf("%s (%s:%d)", c.by, c.file, c.line)
}

func (c checkedObject) claimAt(field string) claim {
	return claim{by: c.ref(), file: c.doc.file, line: lineOf(c.doc.node, field)}
}

// crossFileFindings runs the checks above over every checked object.
func crossFileFindings(objs []checkedObject, opts Options) []Finding {
	objs, findings := lastDefinitions(objs)
	spaces := collaborationSpaces(objs)
	findings = append(findings, departmentFindings(spaces)...)
	findings = append(findings, aliasFindings(spaces, objs)...)
	return append(findings, sharedWithFindings(spaces, opts.StrictRefs)...)
}

// lastDefinitions keeps the last definition of each object, warning about
// objects defined in more than one file.
func lastDefinitions(objs []checkedObject) ([]checkedObject, []Finding) {
	var findings []Finding
	index := map[ObjectRef]int{}
	var last []checkedObject
	for _, o := range objs {
		ref := o.ref()
		i, seen := index[ref]
		if !seen || ref.Name == "" {
			index[ref] = len(last)
			last = append(last, o)
			continue
		}
		earlier := last[i].claimAt("metadata.name")
		findings = append(findings, o.place([]problem{{
			field:    "metadata.name",
			message:  fmt.Sprintf("Duplicate value: %q: the object is also defined at %s:%d; only one definition stays applied", ref.Name, earlier.file, earlier.line),
			severity: SeverityWarning,
		}})...)
		last[i] = o
	}
	return last, findings
}

// collaborationSpaces reads the CollaborationSpaces among objs. One that does
// not convert to the Go type has schema errors already and is left out.
func collaborationSpaces(objs []checkedObject) []spaceObject {
	var spaces []spaceObject
	for _, o := range objs {
		if o.obj.GetKind() != "CollaborationSpace" {
			continue
		}
		s := &collabv1.CollaborationSpace{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.obj.Object, s); err != nil {
			continue
		}
		spaces = append(spaces, spaceObject{checkedObject: o, space: s})
	}
	return spaces
}

// departmentFindings reports departments claimed by two spaces.
func departmentFindings(spaces []spaceObject) []Finding {
	var findings []Finding
	claimed := map[string]claim{}
	for _, s := range spaces {
		dept := s.space.Spec.Department
		key := strings.ToLower(dept)
		if first, ok := claimed[key]; ok {
			findings = append(findings, s.place([]problem{{
				field:   "spec.department",
				message: fmt.Sprintf("Duplicate value: %q: department already claimed by %s", dept, first),
			}})...)
			continue
		}
		claimed[key] = s.claimAt("spec.department")
	}
	return findings
}

// aliasFindings reports aliases claimed twice on one ChatBackend.
func aliasFindings(spaces []spaceObject, objs []checkedObject) []Finding {
	var findings []Finding
	claimed := map[string]claim{} // "<backend>\x00<alias>"
	take := func(o checkedObject, backend, alias, field string) {
		key := backend + "\x00" + alias
		if first, ok := claimed[key]; ok {
			if first.by == o.ref() {
				return // two rooms of one space: the server reports the duplicate
			}
			findings = append(findings, o.place([]problem{{
				field:   field,
				message: fmt.Sprintf("Duplicate value: %q: alias already claimed on ChatBackend %s by %s", "#"+alias, backend, first),
			}})...)
			return
		}
		claimed[key] = o.claimAt(field)
	}
	for _, o := range objs {
		if backend, alias, field, ok := directoryAlias(o.obj); ok {
			take(o, backend, alias, field)
		}
	}
	for _, s := range spaces {
		chat := s.space.Spec.Chat
		if chat == nil || chat.BackendRef == nil {
			continue
		}
		backend := chat.BackendRef.Name
		take(s.checkedObject, backend, s.space.Name, "metadata.name")
		for i, r := range chat.Rooms {
			take(s.checkedObject, backend, s.space.Name+"-"+r.Name, fmt.Sprintf("spec.chat.rooms[%d].name", i))
		}
	}
	return findings
}

// directoryAlias returns the alias of a ChatBackend's directory space, which
// shares the server's alias namespace with the department spaces. The space is
// declared in the backend's engine section (spec.<engine>.directorySpace),
// whichever engine that is; the API allows one section.
func directoryAlias(obj *unstructured.Unstructured) (backend, alias, field string, ok bool) {
	if obj.GetKind() != "ChatBackend" {
		return "", "", "", false
	}
	spec, _, _ := unstructured.NestedMap(obj.Object, "spec")
	for _, engine := range slices.Sorted(maps.Keys(spec)) {
		dir, found, err := unstructured.NestedMap(spec, engine, "directorySpace")
		if !found || err != nil {
			continue
		}
		field = "spec." + engine + ".directorySpace"
		alias = "directory" // the engines' default, see plan.DesiredDirectory in internal/chat/matrix/plan
		if a, ok := dir["alias"].(string); ok && a != "" {
			alias, field = a, field+".alias"
		}
		return obj.GetName(), alias, field, true
	}
	return "", "", "", false
}

// sharedWithFindings reports sharedWith references to spaces not among the
// checked objects.
func sharedWithFindings(spaces []spaceObject, strict bool) []Finding {
	known := map[string]bool{}
	for _, s := range spaces {
		known[s.space.Namespace+"/"+s.space.Name] = true
	}
	severity, hint := SeverityWarning, "; if it lives elsewhere, this is fine (--strict-refs makes it an error)"
	if strict {
		severity, hint = SeverityError, ""
	}
	var findings []Finding
	for _, s := range spaces {
		if s.space.Spec.Chat == nil {
			continue
		}
		for i, r := range s.space.Spec.Chat.Rooms {
			for j, ref := range r.SharedWith {
				target := ref.Namespace + "/" + ref.Name
				if known[target] {
					continue
				}
				findings = append(findings, s.place([]problem{{
					field:    fmt.Sprintf("spec.chat.rooms[%d].sharedWith[%d]", i, j),
					message:  fmt.Sprintf("Not found: %q: no CollaborationSpace %s among the checked files%s", target, target, hint),
					severity: severity,
				}})...)
			}
		}
	}
	return findings
}
