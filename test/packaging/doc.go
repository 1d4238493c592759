// Package packaging tests how the operator is shipped and watched from outside: the
// Helm chart against config/ (and `make helm-sync`, which regenerates the chart's
// copies of the CRDs and RBAC rules), the kustomize install, and the health that
// kstatus (Flux, kubectl wait) and Argo CD's health.lua read from a
// CollaborationSpace's status.
package packaging
