package validate

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// The cross-file checks catch what the API server cannot see, because each
// object is valid on its own:
//
//   - two rooms, spaces or directory spaces claiming the same alias on one chat
//     server, and two spaces claiming the same group name on one shared forum,
//     as the operator's own planners name them (names.go): the second would
//     stall with AliasConflict. Aliases are #<namespace>.<space>[.<room>], so
//     spaces never collide with each other; two ChatBackends on one server
//     whose directory spaces take one alias do;
//   - two spaces claiming the same department name (case-insensitively): a
//     warning, as the operator makes both, but members would see two spaces
//     of one name in chat;
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
	findings = append(findings, forumGroupFindings(spaces)...)
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

// departmentFindings warns about departments claimed by two spaces.
func departmentFindings(spaces []spaceObject) []Finding {
	var findings []Finding
	claimed := map[string]claim{}
	for _, s := range spaces {
		dept := s.space.Spec.Department
		key := strings.ToLower(dept)
		if first, ok := claimed[key]; ok {
			findings = append(findings, s.place([]problem{{
				field:    "spec.department",
				message:  fmt.Sprintf("Duplicate value: %q: department already claimed by %s; members would see two spaces of that name", dept, first),
				severity: SeverityWarning,
			}})...)
			continue
		}
		claimed[key] = s.claimAt("spec.department")
	}
	return findings
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
