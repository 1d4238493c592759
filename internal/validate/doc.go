// Package validate checks collab-operator manifests offline, the way the API
// server would, so that a pull request learns what `kubectl apply` would refuse
// before anyone applies it.
//
// Each object goes through the steps the apiextensions-apiserver runs for a
// custom resource, using its own libraries rather than a re-implementation of
// the rules: pruning of unknown fields (refused, as kubectl's strict field
// validation does), defaulting, metadata validation, the OpenAPI schema,
// x-kubernetes-list-type invariants and the CEL rules, with transition rules
// (oldSelf) when a file holds an object followed by its update. The messages
// are the server's own field errors, so they read the same in CI and on the
// cluster.
//
// On top of that, Check runs checks no single object can make and the server
// therefore never does: chat aliases and shared forum group names claimed by
// two objects, computed by the operator's own planners (names.go), departments
// claimed twice, and sharedWith references to spaces that are not among the
// files (see crossfile.go).
package validate
