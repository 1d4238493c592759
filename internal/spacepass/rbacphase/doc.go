// Package rbacphase is the phase of a space's pass that owns PermissionsReady:
// the space's Roles and one RoleBinding per role in use, kept as the spec says
// and pruned of what it no longer grants. It also trims the Roles and
// RoleBindings the manager caches to a fingerprint of their content and the
// operator's labels (TrimForCache, fingerprint.go).
package rbacphase
