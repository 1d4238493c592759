package controllers

import "github.com/opencommons/collab-operator/internal/uninstall"

// UninstallAnnotation on the operator's namespace, set to "true", tells the
// operator it is being uninstalled: deleted spaces are released untouched.
const UninstallAnnotation = uninstall.Annotation
