// Package forumbackend is the ForumBackend controller: it connects to each shared
// forum with the operator's token and reports in the backend's status whether it
// answers, and with which version.
package forumbackend

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/outcome"
	"github.com/opencommons/collab-operator/internal/statuspatch"
)

// Reconciler checks that a shared forum answers, accepts the operator's
// token as an administrator's, and reports its version.
type Reconciler struct {
	client.Client
	// APIReader reads Secrets without caching them; the Client when nil.
	APIReader client.Reader
	// CredentialsNamespace is the one namespace backends' credentials Secrets are read from.
	CredentialsNamespace string
	Forum                forum.Engines
}

// +kubebuilder:rbac:groups=collab.opencommons.io,resources=forumbackends/status,verbs=patch

// Reconcile checks the forum and polls it on its interval.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	backend := &collabv1.ForumBackend{}
	if err := r.Get(ctx, req.NamespacedName, backend); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := backend.DeepCopy()
	engine, err := r.check(ctx, backend)
	cond := metav1.Condition{Type: collabv1.ReadyCondition, ObservedGeneration: backend.Generation,
		Status: metav1.ConditionTrue, Reason: collabv1.ReasonConnected, Message: "Connected to " + engine + " " + backend.Status.Version}
	if err != nil {
		e := outcome.Classify(collabv1.ReadyCondition, collabv1.ReasonForumFailed, err)
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, e.Reason, e.Message()
	} else {
		backend.Status.ObservedGeneration = backend.Generation
	}
	meta.SetStatusCondition(&backend.Status.Conditions, cond)
	if perr := statuspatch.Patch(ctx, r.Client, before, backend, collabv1.ReadyCondition); perr != nil {
		return ctrl.Result{}, errors.Join(err, perr)
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	interval := backend.Spec.PollInterval.Duration
	if interval == 0 {
		interval = forum.DefaultPollInterval
	}
	return ctrl.Result{RequeueAfter: interval}, nil
}

// check connects to the forum, checks that the token is an administrator's and
// reads the version. It returns the engine's name, for the Ready message.
func (r *Reconciler) check(ctx context.Context, backend *collabv1.ForumBackend) (engine string, _ error) {
	engine = "the forum"
	if c, err := r.Forum.ForBackend(backend); err == nil {
		engine = c.Site(backend).Engine
	}
	conn, err := connect.ToForumBackend(ctx, r.Client, r.credentials(), r.Forum, backend.Name)
	if err != nil {
		return engine, err
	}
	self, err := conn.Client.Ping(ctx)
	if err != nil {
		return engine, err
	}
	if !self.Admin {
		return engine, fmt.Errorf("the token acts for %s, who is not an administrator", self.Username)
	}
	version, err := conn.Client.Version(ctx)
	if err != nil {
		return engine, err
	}
	backend.Status.Version = version
	return engine, nil
}

// SetupWithManager watches ForumBackends.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&collabv1.ForumBackend{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(opts).
		Named("forumbackend").
		Complete(r)
}

func (r *Reconciler) credentials() connect.Credentials {
	return connect.NewCredentials(r.APIReader, r.Client, r.CredentialsNamespace)
}
