// Package policy evaluates the ValidatingAdmissionPolicies of config/admission
// outside the API server: the operator on every pass (a policy tightened after a
// space was admitted, or a cluster without the admission policies) and
// `collabctl validate --policy` offline. It compiles and runs them with the API
// server's own CEL admission library, so the three places enforce the same rules
// and give the same messages, word for word.
//
// Each policy's paramKind says which objects it is evaluated against: every
// CollaborationPolicy, and every ChatBackend and ForumBackend (the backends'
// namespaceSelector), as the bindings' paramRef.selector {} does. Which policies
// apply to a namespace is decided inside the CEL, from the namespace's labels.
package policy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/cel/environment"
	"sigs.k8s.io/yaml"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	admissionconfig "github.com/opencommons/collab-operator/config/admission"
)

// spaceResource is what the policies match.
var spaceResource = collabv1.GroupVersion.WithResource("collaborationspaces")

// Violation is one rule a space breaks.
type Violation struct {
	// Source is what forbids it: "CollaborationPolicy/<name>", "ChatBackend/<name>"
	// or "ForumBackend/<name>".
	Source string `json:"source"`
	// Field is the space's offending field, e.g. spec.deletionPolicy; empty when
	// the policy could not be evaluated.
	Field string `json:"field,omitempty"`
	// Message is the API server's message at admission: the field, what is
	// wrong, and the policy and rule that forbid it.
	Message string `json:"message"`
}

func (v Violation) String() string { return v.Message }

// Operation is how a space is judged: as created, or as an update that rewrote
// its spec. The operator judges a stored space as an update, so that rules that
// only concern new spaces (naming a backend that is being deleted) do not apply.
type Operation = admission.Operation

const (
	Create = admission.Create
	Update = admission.Update
)

// Input is a space and the objects its policies are evaluated against.
type Input struct {
	// Space as the API server stores it: defaulted, with its namespace set.
	Space *unstructured.Unstructured
	// Namespace of the space; its labels decide which policies select it.
	Namespace *corev1.Namespace
	// Params are the CollaborationPolicies, ChatBackends and ForumBackends, of any
	// number; each is used by the admission policies whose paramKind is its kind.
	Params []*unstructured.Unstructured
	// Operation is Create or Update (the default).
	Operation Operation
	// Old is the space before an Update, as the API server passes oldObject; the
	// space itself when nil. The operator passes the space without the
	// backendRefs it has nothing recorded on yet, so a reference added by an
	// update is judged as one.
	Old *unstructured.Unstructured
}

// Evaluator holds the compiled admission policies. It is safe for concurrent use.
type Evaluator struct {
	policies []compiled
}

type compiled struct {
	name      string
	paramKind schema.GroupVersionKind
	validator validating.Validator
}

// New compiles the admission policies embedded from config/admission.
func New() (*Evaluator, error) {
	policies, err := loadPolicies(admissionconfig.Manifests)
	if err != nil {
		return nil, err
	}
	return NewFromPolicies(policies)
}

// NewFromPolicies compiles the given admission policies.
func NewFromPolicies(policies []*admissionregistrationv1.ValidatingAdmissionPolicy) (*Evaluator, error) {
	e := &Evaluator{}
	for _, p := range policies {
		c, err := compile(p)
		if err != nil {
			return nil, fmt.Errorf("ValidatingAdmissionPolicy %s: %w", p.Name, err)
		}
		e.policies = append(e.policies, c)
	}
	if len(e.policies) == 0 {
		return nil, errors.New("no ValidatingAdmissionPolicy to evaluate")
	}
	return e, nil
}

// ParamKinds are the kinds the policies are evaluated against.
func (e *Evaluator) ParamKinds() []schema.GroupVersionKind {
	var kinds []schema.GroupVersionKind
	for _, p := range e.policies {
		if !slices.Contains(kinds, p.paramKind) {
			kinds = append(kinds, p.paramKind)
		}
	}
	return kinds
}

// Evaluate returns every rule the space breaks, in the order of the policies and
// their params. A rule that cannot be evaluated counts as broken, whatever the
// policy's failurePolicy: the API server may admit what it cannot judge (Ignore,
// so that an uninstall never hangs on a missing CRD), the operator does not act
// on it.
func (e *Evaluator) Evaluate(ctx context.Context, in Input) []Violation {
	op := in.Operation
	if op == "" {
		op = Update
	}
	space := in.Space
	gvk := space.GroupVersionKind()
	if gvk.Empty() {
		gvk = collabv1.GroupVersion.WithKind("CollaborationSpace")
	}
	var old runtime.Object
	var versionedOld admission.LazyObject
	if op == Update {
		prior := space
		if in.Old != nil {
			prior = in.Old
		}
		old = prior
		versionedOld = admission.NewLazyObject(prior)
	}
	attrs := admission.NewAttributesRecord(space, old, gvk, space.GetNamespace(), space.GetName(),
		spaceResource, "", op, nil, false, &user.DefaultInfo{Name: "collab-operator"})
	versioned := &admission.VersionedAttributes{
		Attributes:         attrs,
		VersionedKind:      gvk,
		VersionedObject:    admission.NewLazyObject(space),
		VersionedOldObject: versionedOld,
	}
	var out []Violation
	for _, p := range e.policies {
		for _, param := range in.Params {
			if param.GroupVersionKind() != p.paramKind {
				continue
			}
			source := param.GetKind() + "/" + param.GetName()
			result := p.validator.Validate(ctx, spaceResource, versioned, param, in.Namespace,
				celconfig.RuntimeCELCostBudget, nil)
			for _, d := range result.Decisions {
				switch {
				case d.Evaluation == validating.EvalError:
					out = append(out, Violation{Source: source,
						Message: fmt.Sprintf("%s cannot be evaluated by ValidatingAdmissionPolicy %s: %s", source, p.name, d.Message)})
				case d.Action == validating.ActionDeny:
					out = append(out, Violation{Source: source, Field: fieldOf(d.Message), Message: d.Message})
				}
			}
		}
	}
	return out
}

// fieldOf is the field a message starts with: config/admission words every
// message "<field>: <what is wrong>".
func fieldOf(msg string) string {
	field, _, ok := strings.Cut(msg, ": ")
	if !ok || !strings.HasPrefix(field, "spec.") || strings.Contains(field, " ") {
		return ""
	}
	return field
}

// compile builds a policy's validator as the API server's ValidatingAdmissionPolicy
// plugin does (validating.compilePolicy), without its match conditions: those
// skip metadata-only updates at admission, while here the stored space is judged
// whole.
func compile(p *admissionregistrationv1.ValidatingAdmissionPolicy) (compiled, error) {
	if p.Spec.ParamKind == nil {
		return compiled{}, errors.New("has no paramKind")
	}
	gv, err := schema.ParseGroupVersion(p.Spec.ParamKind.APIVersion)
	if err != nil {
		return compiled{}, err
	}
	withAuthz := plugincel.OptionalVariableDeclarations{HasParams: true, HasAuthorizer: true}
	withoutAuthz := plugincel.OptionalVariableDeclarations{HasParams: true, HasAuthorizer: false}
	compiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	if err != nil {
		return compiled{}, err
	}
	for _, v := range p.Spec.Variables {
		res := compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression},
			withAuthz, environment.StoredExpressions)
		if res.Error != nil {
			return compiled{}, fmt.Errorf("variable %s: %w", v.Name, res.Error)
		}
	}
	validations := make([]plugincel.ExpressionAccessor, 0, len(p.Spec.Validations))
	messages := make([]plugincel.ExpressionAccessor, len(p.Spec.Validations))
	for i, v := range p.Spec.Validations {
		validations = append(validations, &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason})
		if v.MessageExpression != "" { // as the plugin's convertv1MessageExpressions
			messages[i] = &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}
		}
	}
	validationEval := compiler.CompileCondition(validations, withAuthz, environment.StoredExpressions)
	messageEval := compiler.CompileCondition(messages, withoutAuthz, environment.StoredExpressions)
	if errs := append(validationEval.CompilationErrors(), messageEval.CompilationErrors()...); len(errs) > 0 {
		return compiled{}, errors.Join(errs...)
	}
	audit := compiler.CompileCondition(nil, withoutAuthz, environment.StoredExpressions)
	return compiled{
		name:      p.Name,
		paramKind: gv.WithKind(p.Spec.ParamKind.Kind),
		validator: validating.NewValidator(validationEval, nil, audit, messageEval, p.Spec.FailurePolicy, nil),
	}, nil
}

// loadPolicies reads the ValidatingAdmissionPolicies of every *.yaml file of fsys,
// skipping their bindings and the kustomization.
func loadPolicies(fsys fs.FS) ([]*admissionregistrationv1.ValidatingAdmissionPolicy, error) {
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	var out []*admissionregistrationv1.ValidatingAdmissionPolicy
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		policies, err := DecodePolicies(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, policies...)
	}
	return out, nil
}

// DecodePolicies returns the ValidatingAdmissionPolicies of a multi-document YAML
// stream, skipping every other kind.
func DecodePolicies(data []byte) ([]*admissionregistrationv1.ValidatingAdmissionPolicy, error) {
	var out []*admissionregistrationv1.ValidatingAdmissionPolicy
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, err
		}
		if tm.Kind != "ValidatingAdmissionPolicy" || tm.APIVersion != admissionregistrationv1.SchemeGroupVersion.String() {
			continue
		}
		p := &admissionregistrationv1.ValidatingAdmissionPolicy{}
		if err := yaml.UnmarshalStrict(doc, p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
}

// Unstructured turns a typed object, as a client returns it (without kind), into
// the unstructured form the API server hands to CEL, with its apiVersion and kind.
func Unstructured(obj runtime.Object, gvk schema.GroupVersionKind) (*unstructured.Unstructured, error) {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// AddParam adds a typed object (a CollaborationPolicy, ChatBackend or ForumBackend)
// to the params, as its kind gvk.
func (in *Input) AddParam(obj runtime.Object, gvk schema.GroupVersionKind) error {
	u, err := Unstructured(obj, gvk)
	if err != nil {
		return err
	}
	in.Params = append(in.Params, u)
	return nil
}
