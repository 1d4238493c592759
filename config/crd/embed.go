// Package crd holds the generated CustomResourceDefinitions, embedded so that
// offline tools (collabctl validate) check manifests against exactly the schema
// and CEL rules `make manifests` generated, without a copy to keep in sync.
package crd

import "embed"

// Bases holds bases/*.yaml, one CustomResourceDefinition per file.
//
//go:embed bases/*.yaml
var Bases embed.FS
