package controllers

import "github.com/opencommons/collab-operator/internal/uninstall"

// UninstallAnnotation on the operator's namespace, set to "true", tells the
// operator it is being uninstalled: deleted spaces are released untouched.
const UninstallAnnotation = uninstall.Annotation

// uninstallCheck is the space reconciler's check.
func (r *Pass) uninstallCheck() uninstall.Check {
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	return uninstall.Check{Reader: reader, OperatorNamespace: r.Forum.OperatorNamespace}
}
