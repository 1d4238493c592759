package validate

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/opencommons/collab-operator/internal/policy"
)

// The policy check (Options.Policies, `collabctl validate --policy`) judges each
// CollaborationSpace as the API server's ValidatingAdmissionPolicies would when it
// is created: the very policies of config/admission, evaluated by internal/policy,
// against
//   - the CollaborationPolicies of the policy files;
//   - the ChatBackends and ForumBackends of the policy files and the checked files
//     (their namespaceSelector);
//   - the labels of the space's Namespace, from either. The API server gives every
//     namespace the label kubernetes.io/metadata.name; a namespace that is in no
//     file has that label alone, and a warning says so.
// A refusal is a finding at the space's offending field, in the server's words.

// nameLabel is the label the API server gives every namespace.
const nameLabel = "kubernetes.io/metadata.name"

// policyFindings runs the policy check over the checked objects; docs are every
// document of the checked files, for their Namespaces.
func (v *Validator) policyFindings(ctx context.Context, objs []checkedObject, docs []*document, opts Options) []Finding {
	eval, err := policy.New()
	if err != nil {
		return []Finding{{File: opts.Policies[0].Name, Line: 1, Severity: SeverityError,
			Message: "cannot compile the admission policies: " + err.Error()}}
	}
	var findings []Finding
	params := map[ObjectRef]*unstructured.Unstructured{}
	namespaces := map[string]*corev1.Namespace{}
	addNamespaces(namespaces, docs)
	for _, o := range objs {
		addParam(params, o, false)
	}
	for _, in := range opts.Policies {
		pdocs, probs := parseDocuments(in.Name, in.Data)
		for _, p := range probs {
			findings = append(findings, Finding{File: in.Name, Line: p.line, Field: p.field, Message: p.message, Severity: SeverityError})
		}
		pobjs, pfindings, _ := v.checkFile(ctx, pdocs, opts)
		findings = append(findings, pfindings...)
		for _, o := range pobjs {
			addParam(params, o, true)
		}
		addNamespaces(namespaces, pdocs)
	}
	var input []*unstructured.Unstructured
	for _, p := range params {
		input = append(input, p)
	}
	warned := map[string]bool{}
	for _, o := range objs {
		if o.obj.GetKind() != "CollaborationSpace" {
			continue
		}
		name := o.obj.GetNamespace()
		ns := namespaces[name]
		if ns == nil {
			ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{nameLabel: name}}}
			if !warned[name] {
				warned[name] = true
				findings = append(findings, o.place([]problem{{field: "metadata.namespace", severity: SeverityWarning,
					message: fmt.Sprintf("Not found: namespace %q is in none of the files, so the policies are matched against "+
						"its name alone; give its Namespace manifest, with its labels, among the files or with --policy", name)}})...)
			}
		}
		violations := eval.Evaluate(ctx, policy.Input{Space: o.obj, Namespace: ns, Params: input, Operation: policy.Create})
		for _, viol := range violations {
			findings = append(findings, o.place([]problem{{field: viol.Field, at: "metadata.name",
				message: strings.TrimPrefix(viol.Message, viol.Field+": ")}})...)
		}
	}
	return findings
}

// addParam keeps the objects the admission policies are evaluated against:
// CollaborationPolicies from the policy files only, backends from any file.
func addParam(params map[ObjectRef]*unstructured.Unstructured, o checkedObject, fromPolicyFile bool) {
	switch o.obj.GetKind() {
	case "CollaborationPolicy":
		if !fromPolicyFile {
			return
		}
	case "ChatBackend", "ForumBackend":
	default:
		return
	}
	params[o.ref()] = o.obj
}

// addNamespaces records the Namespaces among docs with their labels, and the one
// the API server adds.
func addNamespaces(namespaces map[string]*corev1.Namespace, docs []*document) {
	for _, d := range docs {
		if d.obj.GetAPIVersion() != "v1" || d.obj.GetKind() != "Namespace" || d.obj.GetName() == "" {
			continue
		}
		labels := map[string]string{}
		for k, val := range d.obj.GetLabels() {
			labels[k] = val
		}
		labels[nameLabel] = d.obj.GetName()
		namespaces[d.obj.GetName()] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: d.obj.GetName(), Labels: labels}}
	}
}
