package validate

import (
	"context"
	"fmt"
	"strings"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apiextensionsfeatures "k8s.io/apiextensions-apiserver/pkg/features"
	"k8s.io/apimachinery/pkg/api/operation"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/common"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/apiserver/pkg/warning"
)

// The functions below follow, step by step, what the API server does with a
// custom resource on create and update: the decoder (schemaCoercingDecoder and
// unstructuredDefaulter in customresource_handler.go), rest.BeforeCreate and
// BeforeUpdate, and the strategy's Validate and ValidateUpdate
// (registry/customresource). Keeping the order matters for the messages: the
// server defaults before it validates, and skips CEL rules once a schema check
// has failed.

// generatedNameSuffix stands in for the random suffix the server appends to
// metadata.generateName, so that offline results are reproducible.
const generatedNameSuffix = "abcde"

// create returns the errors the server gives when obj is created in namespace
// defaultNS (when obj names none), and obj as the server would store it, to
// serve as the old object of an update.
func (k *kindValidator) create(ctx context.Context, obj *unstructured.Unstructured, defaultNS string) (*unstructured.Unstructured, []problem) {
	obj = obj.DeepCopy()
	probs := k.decode(obj)
	k.setNamespace(obj, defaultNS)
	if k.hasStatus {
		delete(obj.Object, "status")
	}
	obj.SetGeneration(1)
	if obj.GetName() == "" && obj.GetGenerateName() != "" {
		obj.SetName(obj.GetGenerateName() + generatedNameSuffix)
	}
	probs = append(probs, fieldProblems(k.validateCreate(ctx, obj))...)
	obj.SetResourceVersion("1") // as storage would, for a later update
	return obj, probs
}

// update returns the errors the server gives when obj replaces old, which must
// be the stored object create returned.
func (k *kindValidator) update(ctx context.Context, obj, old *unstructured.Unstructured, defaultNS string) (*unstructured.Unstructured, []problem) {
	obj = obj.DeepCopy()
	probs := k.decode(obj)
	k.setNamespace(obj, defaultNS)
	if k.hasStatus {
		if status, ok := old.Object["status"]; ok {
			obj.Object["status"] = status
		} else {
			delete(obj.Object, "status")
		}
	}
	obj.SetGeneration(old.GetGeneration())
	// kubectl apply patches the live object, so the update carries its version.
	obj.SetResourceVersion(old.GetResourceVersion())
	var ratcheted warningRecorder
	ctx = warning.WithWarningRecorder(ctx, &ratcheted)
	probs = append(probs, fieldProblems(k.validateUpdate(ctx, obj, old))...)
	return obj, append(probs, ratcheted...)
}

// warningRecorder keeps the warnings the server would send back with a
// successful update: CEL rules that fail on values the update leaves as they
// were (ratcheting) warn rather than refuse.
type warningRecorder []problem

// AddWarning implements warning.Recorder. text is a field error's Error():
// "<field>: <message>".
func (w *warningRecorder) AddWarning(_, text string) {
	path, msg, ok := strings.Cut(text, ": ")
	if !ok || path == "<nil>" {
		path, msg = "", text
	}
	*w = append(*w, problem{field: path, message: msg, severity: SeverityWarning})
}

// setNamespace does what kubectl and rest.BeforeCreate do with the namespace:
// a namespaced object without one lands in the current (here: the given)
// namespace, and a cluster-scoped object's namespace is dropped.
func (k *kindValidator) setNamespace(obj *unstructured.Unstructured, defaultNS string) {
	switch {
	case !k.namespaced:
		obj.SetNamespace("")
	case obj.GetNamespace() == "":
		obj.SetNamespace(defaultNS)
	}
}

// decode prunes and defaults obj in place as the server's decoder does, and
// returns a problem for each unknown field. The server prunes those silently,
// but kubectl asks for strict field validation, which refuses them (before
// validation; here both are reported).
func (k *kindValidator) decode(obj *unstructured.Unstructured) []problem {
	apiVersion, kind := obj.GetAPIVersion(), obj.GetKind()
	objectMeta, foundMeta, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(obj.Object,
		schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return []problem{{field: "metadata", message: err.Error()}}
	}
	unknown = append(unknown, structuralpruning.PruneWithOptions(obj.Object, k.structural, true,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj.Object, k.structural)
	ferr, paths := schemaobjectmeta.CoerceWithOptions(nil, obj.Object, k.structural, false,
		schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if ferr != nil {
		return fieldProblems(field.ErrorList{ferr})
	}
	unknown = append(unknown, paths...)

	obj.SetAPIVersion(apiVersion)
	obj.SetKind(kind)
	if foundMeta {
		if err := schemaobjectmeta.SetObjectMeta(obj.Object, objectMeta); err != nil {
			return []problem{{field: "metadata", message: err.Error()}}
		}
	}
	structuraldefaulting.Default(obj.Object, k.structural)
	return unknownFieldProblems(unknown)
}

// unknownFieldProblems words unknown fields as the server does under strict
// field validation: `strict decoding error: unknown field "spec.foo"`.
func unknownFieldProblems(paths []string) []problem {
	probs := make([]problem, 0, len(paths))
	for _, p := range paths {
		probs = append(probs, problem{field: p, message: fmt.Sprintf("strict decoding error: unknown field %q", p)})
	}
	return probs
}

// validateCreate is customResourceStrategy.Validate.
func (k *kindValidator) validateCreate(ctx context.Context, obj *unstructured.Unstructured) field.ErrorList {
	if errs := k.validateTypeMeta(obj); len(errs) > 0 {
		return errs
	}
	meta, errs := objectMeta(obj)
	if len(errs) > 0 {
		return errs
	}
	errs = apimachineryvalidation.ValidateObjectMetaDeclaratively(ctx, operation.Create, meta, nil, k.namespaced,
		apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"), declarativeBeta())
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj.Object, k.schema)...)
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, obj.Object, k.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, k.structural, obj.Object)...)
	return append(errs, k.validateRules(ctx, errs, obj, nil)...)
}

// validateUpdate is customResourceStrategy.ValidateUpdate, with ratcheting:
// errors in values the update leaves unchanged are not reported.
func (k *kindValidator) validateUpdate(ctx context.Context, obj, old *unstructured.Unstructured) field.ErrorList {
	if errs := k.validateTypeMeta(obj); len(errs) > 0 {
		return errs
	}
	meta, errs := objectMeta(obj)
	if len(errs) > 0 {
		return errs
	}
	oldMeta, errs := objectMeta(old)
	if len(errs) > 0 {
		return errs
	}
	var opts []apiservervalidation.ValidationOption
	if ratcheting() {
		opts = append(opts, apiservervalidation.WithRatcheting(k.correlate(obj, old)))
	}
	errs = apimachineryvalidation.ValidateObjectMetaDeclaratively(ctx, operation.Update, meta, oldMeta, k.namespaced,
		nil, field.NewPath("metadata"), declarativeBeta())
	errs = append(errs, apiservervalidation.ValidateCustomResourceUpdate(nil, obj.Object, old.Object, k.schema, opts...)...)
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, obj.Object, k.structural, false)...)
	if oldErrs := structurallisttype.ValidateListSetsAndMaps(nil, k.structural, old.Object); len(oldErrs) == 0 {
		errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, k.structural, obj.Object)...)
	}
	return append(errs, k.validateRules(ctx, errs, obj, old)...)
}

// validateRules runs the CEL rules, unless errs holds an error that makes the
// server skip them; then it returns the server's note saying so.
func (k *kindValidator) validateRules(ctx context.Context, errs field.ErrorList, obj, old *unstructured.Unstructured) field.ErrorList {
	if k.cel == nil {
		return nil
	}
	if blocking := blockingError(errs); blocking != nil {
		return field.ErrorList{blocking}
	}
	var oldObj any
	var opts []cel.Option
	if old != nil {
		oldObj = old.Object
		if ratcheting() {
			opts = append(opts, cel.WithRatcheting(k.correlate(obj, old)))
		}
	}
	ruleErrs, _ := k.cel.Validate(ctx, nil, k.structural, obj.Object, oldObj, celconfig.RuntimeCELCostBudget, opts...)
	return ruleErrs
}

func (k *kindValidator) correlate(obj, old *unstructured.Unstructured) *common.CorrelatedObject {
	return common.NewCorrelatedObject(obj.Object, old.Object, &model.Structural{Structural: k.structural})
}

// blockingError is the strategy's hasBlockingErr: after these errors the CEL
// rules may see values of the wrong type or size, so the server skips them.
func blockingError(errs field.ErrorList) *field.Error {
	for _, err := range errs {
		if isBlocking(err) {
			return field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return nil
}

func isBlocking(err *field.Error) bool {
	switch err.Type {
	case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong,
		field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
		return true
	}
	return false
}

// validateTypeMeta is customResourceValidator.ValidateTypeMeta.
func (k *kindValidator) validateTypeMeta(obj *unstructured.Unstructured) field.ErrorList {
	var errs field.ErrorList
	if obj.GetKind() != k.gvk.Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), obj.GetKind(), "must be "+k.gvk.Kind))
	}
	if want := k.gvk.GroupVersion().String(); obj.GetAPIVersion() != want {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), obj.GetAPIVersion(), "must be "+want))
	}
	return errs
}

// objectMeta reads obj's metadata as the server's getObjectMeta does.
func objectMeta(obj *unstructured.Unstructured) (*metav1.ObjectMeta, field.ErrorList) {
	raw, ok := obj.Object["metadata"]
	if !ok || raw == nil {
		return &metav1.ObjectMeta{}, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, fmt.Sprintf("expected map[string]interface{}, got %T", raw))}
	}
	meta := &metav1.ObjectMeta{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, meta); err != nil {
		return nil, field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, err.Error())}
	}
	return meta, nil
}

// ratcheting and declarativeBeta read the same feature gates as the server, so
// the library's defaults for this Kubernetes version decide, not this package.
func ratcheting() bool {
	return utilfeature.DefaultFeatureGate.Enabled(apiextensionsfeatures.CRDValidationRatcheting)
}

func declarativeBeta() bool {
	return utilfeature.DefaultFeatureGate.Enabled(features.DeclarativeValidationBeta)
}
