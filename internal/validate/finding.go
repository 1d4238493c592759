package validate

import (
	"cmp"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Severity says whether a finding fails the check.
type Severity string

const (
	// SeverityError is what the API server would refuse, or a conflict between
	// objects that would break the operator's work.
	SeverityError Severity = "error"
	// SeverityWarning is worth a reviewer's look but may be fine, e.g. a
	// reference to a space that lives in another repository.
	SeverityWarning Severity = "warning"
)

// ObjectRef names the object a finding is about.
type ObjectRef struct {
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// String is kind/namespace/name, or kind/name for cluster-scoped objects.
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// Finding is one problem, placed at a file and line for a reviewer.
type Finding struct {
	File string `json:"file"`
	// Line is 1-based: the line of the offending field when it can be found,
	// else of the object, else of the document.
	Line   int       `json:"line"`
	Object ObjectRef `json:"object"`
	// Field is the path of the offending field as the API server names it,
	// e.g. spec.chat.rooms[1]; empty when the finding is about the object.
	Field string `json:"field,omitempty"`
	// Message is the server's message without the field path, e.g.
	// `Duplicate value: map[string]interface {}{"name":"general"}`.
	Message  string   `json:"message"`
	Severity Severity `json:"severity"`
}

// String is the file:line form a reviewer reads:
// `x.yaml:12: spec.chat.rooms[1]: Duplicate value: …`, with "warning: " before
// the field of a warning.
func (f Finding) String() string {
	s := fmt.Sprintf("%s:%d: ", f.File, f.Line)
	if f.Severity == SeverityWarning {
		s += "warning: "
	}
	if f.Field != "" {
		s += f.Field + ": "
	}
	return s + f.Message
}

// HasErrors says whether any finding is an error.
func HasErrors(findings []Finding) bool {
	return slices.ContainsFunc(findings, func(f Finding) bool { return f.Severity == SeverityError })
}

// sortFindings orders findings by file and line, keeping the server's order
// for findings on the same line.
func sortFindings(findings []Finding) {
	slices.SortStableFunc(findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}

// problem is a finding before it is placed in a file.
type problem struct {
	field   string
	message string
	// at, when field is empty, is the field whose line the problem is shown at.
	at       string
	severity Severity // SeverityError when empty
}

// fieldProblems turns the server's field errors into problems, keeping its
// wording. The root path, which the server prints as "<nil>", becomes empty;
// such an error (the note that CEL rules were skipped) is shown at the line of
// the first error that made the server skip them, where a reader looks.
func fieldProblems(errs field.ErrorList) []problem {
	probs := make([]problem, 0, len(errs))
	blocking := ""
	for _, e := range errs {
		path := e.Field
		if path == "<nil>" {
			path = ""
		}
		if blocking == "" && isBlocking(e) {
			blocking = path
		}
		probs = append(probs, problem{field: path, message: e.ErrorBody()})
	}
	for i := range probs {
		if probs[i].field == "" {
			probs[i].at = blocking
		}
	}
	return probs
}

// fieldOf is where a problem is shown.
func (p problem) fieldOf() string {
	if p.field == "" {
		return p.at
	}
	return p.field
}
