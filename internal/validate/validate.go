package validate

import (
	"context"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Options tune a check.
type Options struct {
	// Namespace is given to namespaced objects that name none, as kubectl gives
	// them the current namespace; "default" when empty.
	Namespace string
	// StrictRefs makes a sharedWith reference to a space that is not among the
	// checked files an error. It is a warning by default because the space may
	// be kept in another repository.
	StrictRefs bool
	// Policies, when given, are files whose CollaborationPolicies (and backends
	// and Namespaces) every space is judged by, as the API server's admission
	// policies would judge it (policy.go).
	Policies []Input
}

func (o Options) namespace() string {
	if o.Namespace == "" {
		return "default"
	}
	return o.Namespace
}

// Input is the content of one file; Name is how findings refer to it.
type Input struct {
	Name string
	Data []byte
}

// Validator checks manifests against the operator's CRDs.
type Validator struct {
	kinds  map[schema.GroupVersionKind]*kindValidator
	groups map[string]bool
}

// New returns a Validator for the CRDs built into this binary, the ones
// `make manifests` generated from api/v1alpha1.
func New() (*Validator, error) {
	kinds, err := loadEmbeddedCRDs()
	if err != nil {
		return nil, err
	}
	groups := map[string]bool{}
	for gvk := range kinds {
		groups[gvk.Group] = true
	}
	return &Validator{kinds: kinds, groups: groups}, nil
}

// Report is the outcome of a check.
type Report struct {
	// Files and Objects count what was checked: every file, and the documents
	// of the operator's kinds among them.
	Files, Objects int
	// Findings are sorted by file and line.
	Findings []Finding
}

// ReadInputs reads paths: files as given, directories walked for *.yaml and
// *.yml files (see expandPaths), and "-" from stdin, named "<stdin>".
func ReadInputs(paths []string, stdin io.Reader) ([]Input, error) {
	files, err := expandPaths(paths)
	if err != nil {
		return nil, err
	}
	inputs := make([]Input, 0, len(files))
	for _, f := range files {
		var data []byte
		if f == "-" {
			f = "<stdin>"
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, Input{Name: f, Data: data})
	}
	return inputs, nil
}

// Check validates every object of the operator's API group in inputs as the
// API server would, then runs the cross-file checks over all of them. Objects
// of other groups (Namespaces, Secrets…) are left alone. Within one file, an
// object that repeats an earlier one (same kind, namespace and name) is checked
// as an update of it, so that transition rules such as "backendRef is
// immutable" can be tried offline.
func (v *Validator) Check(ctx context.Context, inputs []Input, opts Options) Report {
	var findings []Finding
	var objs []checkedObject
	var allDocs []*document
	checked := 0
	for _, in := range inputs {
		docs, probs := parseDocuments(in.Name, in.Data)
		allDocs = append(allDocs, docs...)
		for _, p := range probs {
			findings = append(findings, Finding{File: in.Name, Line: p.line, Field: p.field, Message: p.message, Severity: SeverityError})
		}
		fileObjs, fileFindings, n := v.checkFile(ctx, docs, opts)
		objs = append(objs, fileObjs...)
		checked += n
		findings = append(findings, fileFindings...)
	}
	findings = append(findings, crossFileFindings(objs, opts)...)
	if len(opts.Policies) > 0 {
		last, _ := lastDefinitions(objs) // crossFileFindings reported the duplicates
		findings = append(findings, v.policyFindings(ctx, last, allDocs, opts)...)
	}
	sortFindings(findings)
	return Report{Files: len(inputs), Objects: checked, Findings: findings}
}

// checkedObject is an object as the server would have stored it, and the
// document it came from.
type checkedObject struct {
	doc *document
	obj *unstructured.Unstructured
}

func (c checkedObject) ref() ObjectRef {
	return ObjectRef{Kind: c.obj.GetKind(), Namespace: c.obj.GetNamespace(), Name: c.obj.GetName()}
}

// place turns problems about c into findings at their lines.
func (c checkedObject) place(probs []problem) []Finding {
	return placeProblems(c.doc, c.ref(), probs)
}

func placeProblems(doc *document, ref ObjectRef, probs []problem) []Finding {
	findings := make([]Finding, 0, len(probs))
	for _, p := range probs {
		sev := p.severity
		if sev == "" {
			sev = SeverityError
		}
		findings = append(findings, Finding{
			File: doc.file, Line: lineOf(doc.node, p.fieldOf()), Object: ref,
			Field: p.field, Message: p.message, Severity: sev,
		})
	}
	return findings
}

// checkFile validates the documents of one file, each as a create, or as an
// update of an earlier document of the file for the same object. It returns
// the objects as stored, the last version of each, and how many documents it
// checked.
func (v *Validator) checkFile(ctx context.Context, docs []*document, opts Options) ([]checkedObject, []Finding, int) {
	var findings []Finding
	var objs []checkedObject
	checked := 0
	stored := map[ObjectRef]int{} // index into objs
	for _, doc := range docs {
		kv, probs := v.kindFor(doc.obj)
		if kv == nil {
			findings = append(findings, placeProblems(doc, doc.ref(), probs)...)
			continue
		}
		checked++
		var obj *unstructured.Unstructured
		ref := kv.identity(doc.obj, opts.namespace())
		if i, ok := stored[ref]; ok && ref.Name != "" {
			obj, probs = kv.update(ctx, doc.obj, objs[i].obj, opts.namespace())
			objs[i] = checkedObject{doc: doc, obj: obj}
		} else {
			obj, probs = kv.create(ctx, doc.obj, opts.namespace())
			stored[ref] = len(objs)
			objs = append(objs, checkedObject{doc: doc, obj: obj})
		}
		findings = append(findings, placeProblems(doc, ref, probs)...)
	}
	return objs, findings, checked
}

// kindFor returns the validator for obj's kind; nil and no problem for an
// object of another API group, nil and a problem for one this group does not
// serve (a typo in kind or apiVersion).
func (v *Validator) kindFor(obj *unstructured.Unstructured) (*kindValidator, []problem) {
	apiVersion, kind := obj.GetAPIVersion(), obj.GetKind()
	var probs []problem
	if apiVersion == "" {
		probs = append(probs, problem{field: "apiVersion", message: "Required value: every object needs apiVersion and kind"})
	}
	if kind == "" {
		probs = append(probs, problem{field: "kind", message: "Required value: every object needs apiVersion and kind"})
	}
	if len(probs) > 0 {
		return nil, probs
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, []problem{{field: "apiVersion", message: err.Error()}}
	}
	if !v.groups[gv.Group] {
		return nil, nil
	}
	if kv, ok := v.kinds[gv.WithKind(kind)]; ok {
		return kv, nil
	}
	// kubectl's wording when the cluster serves no such kind.
	return nil, []problem{{message: fmt.Sprintf("no matches for kind %q in version %q", kind, apiVersion)}}
}

// identity names obj as it will be stored: in defaultNS if it is namespaced and
// names no namespace.
func (k *kindValidator) identity(obj *unstructured.Unstructured, defaultNS string) ObjectRef {
	ref := ObjectRef{Kind: k.gvk.Kind, Name: obj.GetName()}
	if k.namespaced {
		ref.Namespace = obj.GetNamespace()
		if ref.Namespace == "" {
			ref.Namespace = defaultNS
		}
	}
	return ref
}
