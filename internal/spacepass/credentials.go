package spacepass

import (
	"github.com/opencommons/collab-operator/internal/connect"
)

func (r *Pass) credentials() connect.Credentials {
	ns := r.CredentialsNamespace
	if ns == "" {
		// As --credentials-namespace defaults to --operator-namespace; dry runs and
		// tests set only the latter.
		ns = r.Forum.OperatorNamespace
	}
	return connect.NewCredentials(r.APIReader, r.Client, ns)
}
