package validate

import (
	"fmt"
	"io/fs"
	"path"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"github.com/opencommons/collab-operator/config/crd"
)

// kindValidator holds what the API server builds for one served version of a
// CRD (customresource_handler.go): the structural schema for pruning and
// defaulting, the OpenAPI schema validator and the compiled CEL rules.
type kindValidator struct {
	gvk        schema.GroupVersionKind
	namespaced bool
	// hasStatus says the status subresource is enabled, so that creates and
	// updates of the main resource ignore status, as the server does.
	hasStatus  bool
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaValidator
	// cel is nil when the version has no x-kubernetes-validations.
	cel *cel.Validator
}

// loadEmbeddedCRDs builds a kindValidator for every served version of the
// CRDs generated into config/crd/bases.
func loadEmbeddedCRDs() (map[schema.GroupVersionKind]*kindValidator, error) {
	return loadCRDs(crd.Bases, "bases")
}

// loadCRDs reads every *.yaml file of dir in fsys as one CustomResourceDefinition.
func loadCRDs(fsys fs.FS, dir string) (map[schema.GroupVersionKind]*kindValidator, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	kinds := map[schema.GroupVersionKind]*kindValidator{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			return nil, fmt.Errorf("cannot read CRD %s: %w", f, err)
		}
		if err := addCRD(kinds, crd); err != nil {
			return nil, fmt.Errorf("cannot build a validator from CRD %s: %w", f, err)
		}
	}
	if len(kinds) == 0 {
		return nil, fmt.Errorf("no CRD under %s", dir)
	}
	return kinds, nil
}

// addCRD adds a kindValidator for each served version of crd to kinds.
func addCRD(kinds map[schema.GroupVersionKind]*kindValidator, crd *apiextensionsv1.CustomResourceDefinition) error {
	scheme := runtime.NewScheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return err
	}
	scheme.Default(crd)
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		if !v.Served || v.Schema == nil {
			continue
		}
		kv, err := newKindValidator(crd, v)
		if err != nil {
			return fmt.Errorf("version %s: %w", v.Name, err)
		}
		kinds[kv.gvk] = kv
	}
	return nil
}

// newKindValidator converts the version's schema to the internal API and builds
// its validators exactly as the API server does when it starts serving a CRD.
func newKindValidator(crd *apiextensionsv1.CustomResourceDefinition, v *apiextensionsv1.CustomResourceDefinitionVersion) (*kindValidator, error) {
	internal := &apiextensionsinternal.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.Schema, internal, nil); err != nil {
		return nil, fmt.Errorf("cannot convert the schema to the internal version: %w", err)
	}
	structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("the schema is not structural: %w", err)
	}
	structural = structural.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(structural); err != nil {
		return nil, fmt.Errorf("cannot prune defaults: %w", err)
	}
	schemaValidator, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, err
	}
	return &kindValidator{
		gvk:        schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind},
		namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		hasStatus:  v.Subresources != nil && v.Subresources.Status != nil,
		structural: structural,
		schema:     schemaValidator,
		cel:        cel.NewValidator(structural, true, celconfig.PerCallLimit),
	}, nil
}
