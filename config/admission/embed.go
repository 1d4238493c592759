// Package admission holds the ValidatingAdmissionPolicies that enforce
// CollaborationPolicy and backends' namespaceSelector at admission, embedded so
// that the operator and collabctl evaluate exactly the rules the API server
// does (internal/policy), without a copy to keep in sync.
package admission

import "embed"

// Manifests holds *.yaml: the policies and their bindings, and kustomization.yaml.
//
//go:embed *.yaml
var Manifests embed.FS
