package controllers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/forumdeploy"
	"github.com/opencommons/collab-operator/internal/metrics"
)

// forumRetry is how soon a forum that is starting is looked at again; its
// Deployment's status changes also start a pass.
const forumRetry = 15 * time.Second

// ForumSettings say how the operator reaches the forums it deploys.
type ForumSettings struct {
	// OperatorNamespace is admitted by each forum's NetworkPolicy.
	OperatorNamespace string
	// EndpointOverride, when set, is where every deployed forum's API is reached
	// instead of its Service: for a local cluster whose pods do not really run.
	EndpointOverride string
	// HTTPClient checks that the forum's API answers.
	HTTPClient *http.Client
}

// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;persistentvolumeclaims,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=collab.opencommons.io,resources=forumbackends,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies;ingresses,verbs=get;list;watch;create;update;patch;delete

// reconcileForum runs the department's forum and owns ForumReady. It is True only
// when the workloads are Available and the forum's API answers.
func (r *CollaborationSpaceReconciler) reconcileForum(ctx context.Context, s *spaceScope) (ctrl.Result, error) {
	space := s.space
	switch {
	case space.Spec.Forum == nil:
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ForumReadyCondition)
		space.Status.Forum = nil
		return ctrl.Result{}, nil
	case space.Spec.Forum.Deploy == nil:
		return r.reconcileSharedForum(ctx, s)
	}
	if err := r.applyForumWorkloads(ctx, space); err != nil {
		setCondition(space, collabv1.ForumReadyCondition, metav1.ConditionFalse, "WorkloadsFailed",
			"Cannot write the forum's workloads: "+err.Error())
		return ctrl.Result{}, err
	}
	space.Status.Forum = &collabv1.ForumStatus{URL: forumdeploy.PublicURL(space)}
	if ok, why := r.forumAvailable(ctx, space); !ok {
		setCondition(space, collabv1.ForumReadyCondition, metav1.ConditionFalse, "WorkloadsProgressing", why)
		return ctrl.Result{RequeueAfter: forumRetry}, nil
	}
	if err := r.pingForum(ctx, space); err != nil {
		setCondition(space, collabv1.ForumReadyCondition, metav1.ConditionFalse, "ForumAPIUnreachable",
			"The forum runs but its API does not answer yet: "+err.Error())
		return ctrl.Result{RequeueAfter: forumRetry}, nil
	}
	fc, err := r.connectDeployedForum(ctx, space)
	if err != nil {
		setCondition(space, collabv1.ForumReadyCondition, metav1.ConditionFalse, "ForumTokenMissing", err.Error())
		return ctrl.Result{RequeueAfter: forumRetry}, nil
	}
	return r.reconcileForumContent(ctx, s, fc, forumdeploy.Name(space.Name), false, forumPollInterval)
}

// forumPollInterval is how often a deployed forum is compared with the spec.
const forumPollInterval = 5 * time.Minute

// reconcileSharedForum gives the space its own category, groups and categories in a
// shared forum (a ForumBackend).
func (r *CollaborationSpaceReconciler) reconcileSharedForum(ctx context.Context, s *spaceScope) (ctrl.Result, error) {
	fc, backend, err := connectForumBackend(ctx, r.Client, r.credentials(), r.ForumConnector, s.space.Spec.Forum.BackendRef.Name)
	if err != nil {
		setCondition(s.space, collabv1.ForumReadyCondition, metav1.ConditionFalse, credentialsReason(err, "ForumBackendUnavailable"), err.Error())
		return ctrl.Result{}, err
	}
	interval := backend.Spec.PollInterval.Duration
	if interval == 0 {
		interval = forumPollInterval
	}
	return r.reconcileForumContent(ctx, s, fc, "ForumBackend/"+backend.Name, true, interval)
}

// reconcileForumContent converges the forum's groups, categories and privileges and
// sets ForumReady from the outcome.
func (r *CollaborationSpaceReconciler) reconcileForumContent(ctx context.Context, s *spaceScope, fc forum.Client, name string,
	shared bool, interval time.Duration) (ctrl.Result, error) {
	space := s.space
	p := &forumPass{s: s, client: fc, name: name, shared: shared}
	status, err := r.applyForumContent(ctx, p)
	if conflict := (*forumConflictError)(nil); errors.As(err, &conflict) {
		setCondition(space, collabv1.ForumReadyCondition, metav1.ConditionFalse, reasonForumConflict, conflict.msg)
		return ctrl.Result{}, reconcile.TerminalError(err)
	}
	if err != nil {
		setCondition(space, collabv1.ForumReadyCondition, metav1.ConditionFalse, forumErrorReason(err), err.Error())
		return ctrl.Result{}, err
	}
	if space.Status.Forum != nil {
		status.URL = space.Status.Forum.URL
	}
	space.Status.Forum = status
	metrics.ManagedCategories.WithLabelValues(space.Namespace, space.Name).Set(float64(len(status.Categories)))
	if len(p.drift) > 0 {
		msg := "Put back forum changes made by hand: " + strings.Join(p.drift, "; ")
		r.recordWarning(space, "DriftCorrected", "Update", "%s", msg)
		setCondition(space, collabv1.DriftedCondition, metav1.ConditionTrue, "DriftCorrected", msg)
	}
	msg := fmt.Sprintf("%d categories with their groups and privileges on %s", len(status.Categories), name)
	if len(p.pending) > 0 {
		msg += "; some members of " + strings.Join(p.pending, ", ") + " have no forum account yet and join at their first login"
	}
	setCondition(space, collabv1.ForumReadyCondition, metav1.ConditionTrue, "CategoriesReady", msg)
	return ctrl.Result{RequeueAfter: interval}, nil
}

func forumErrorReason(err error) string {
	switch {
	case errors.Is(err, forum.ErrUnavailable):
		return "ForumUnavailable"
	case errors.Is(err, forum.ErrUnauthorized), errors.Is(err, forum.ErrForbidden):
		return "CredentialsRejected"
	case errors.Is(err, forum.ErrConflict):
		return "NameConflict"
	case isCredentialsNamespaceForbidden(err):
		return ReasonCredentialsNamespaceForbidden
	}
	return "ForumFailed"
}

// connectDeployedForum returns a client for a deployed forum, with the API token an
// administrator stored in the forum's admin Secret. NodeBB creates master tokens
// only for a logged-in administrator who re-enters the password, so the first one is
// made by a person in the admin panel (or by make dev's stand-in forum).
func (r *CollaborationSpaceReconciler) connectDeployedForum(ctx context.Context, space *collabv1.CollaborationSpace) (forum.Client, error) {
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: space.Namespace, Name: forumdeploy.AdminSecretName(space.Name)}
	if err := r.Get(ctx, key, secret); err != nil {
		return nil, fmt.Errorf("cannot read the forum's admin Secret: %w", err)
	}
	if len(secret.Data[secretForumToken]) == 0 {
		return nil, fmt.Errorf("the forum runs; to let the operator create its categories, create a master API token in "+
			"its admin panel (Settings > API Access) as %s and store it under %q in Secret %s",
			secret.Data[forumdeploy.AdminUsernameKey], secretForumToken, key)
	}
	return r.ForumConnector.Connect(ctx, key.String(), r.forumEndpoint(space), secret)
}

// applyForumWorkloads writes the admin Secret (once), the volume, the Deployment,
// Service, NetworkPolicy and the Ingress when one is asked for.
func (r *CollaborationSpaceReconciler) applyForumWorkloads(ctx context.Context, space *collabv1.CollaborationSpace) error {
	ns, name := space.Namespace, space.Name
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.AdminSecretName(name), Namespace: ns}}
	if err := r.applyOwned(ctx, space, secret, "Secret", func() error { return fillAdminSecret(secret, name) }); err != nil {
		return err
	}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.VolumeName(name), Namespace: ns}}
	if err := r.applyOwned(ctx, space, pvc, "PersistentVolumeClaim", func() error {
		if pvc.CreationTimestamp.IsZero() { // a claim's spec is fixed once bound
			pvc.Spec = forumdeploy.Volume(space)
		}
		return nil
	}); err != nil {
		return err
	}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.Name(name), Namespace: ns}}
	if err := r.applyOwned(ctx, space, dep, "Deployment", func() error {
		setIfDiffers(&dep.Spec, forumdeploy.Deployment(space, 1))
		return nil
	}); err != nil {
		return err
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.Name(name), Namespace: ns}}
	if err := r.applyOwned(ctx, space, svc, "Service", func() error {
		setIfDiffers(&svc.Spec, forumdeploy.Service(name))
		return nil
	}); err != nil {
		return err
	}
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.Name(name), Namespace: ns}}
	ingress := space.Spec.Forum.Deploy.Ingress != nil
	if err := r.applyOwned(ctx, space, np, "NetworkPolicy", func() error {
		setIfDiffers(&np.Spec, forumdeploy.NetworkPolicy(name, r.Forum.OperatorNamespace, ingress))
		return nil
	}); err != nil {
		return err
	}
	return r.applyForumIngress(ctx, space)
}

func (r *CollaborationSpaceReconciler) applyForumIngress(ctx context.Context, space *collabv1.CollaborationSpace) error {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.Name(space.Name), Namespace: space.Namespace}}
	desired := forumdeploy.Ingress(space)
	if desired == nil {
		if err := r.Get(ctx, clientKey(ing), ing); err != nil {
			return nil // none to remove
		}
		if !metav1.IsControlledBy(ing, space) {
			return nil
		}
		return r.deleteObject(ctx, space, ing, "Ingress")
	}
	return r.applyOwned(ctx, space, ing, "Ingress", func() error {
		setIfDiffers(&ing.Spec, *desired)
		return nil
	})
}

// fillAdminSecret generates the forum's admin credentials the first time only: a
// password that was ever used must never change under the running forum.
func fillAdminSecret(secret *corev1.Secret, space string) error {
	if len(secret.Data[forumdeploy.AdminPasswordKey]) > 0 {
		return nil
	}
	password, err := randomHex(24)
	if err != nil {
		return err
	}
	secret.Type = corev1.SecretTypeOpaque
	secret.Data = map[string][]byte{
		forumdeploy.AdminUsernameKey: []byte("collab-admin"),
		forumdeploy.AdminPasswordKey: []byte(password),
		forumdeploy.AdminEmailKey:    []byte("collab-admin@" + space + ".invalid"),
	}
	return nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// forumAvailable reports whether the forum's Deployment is Available at its current
// generation, as `kubectl rollout status` would.
func (r *CollaborationSpaceReconciler) forumAvailable(ctx context.Context, space *collabv1.CollaborationSpace) (bool, string) {
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: forumdeploy.Name(space.Name), Namespace: space.Namespace}}
	if err := r.Get(ctx, clientKey(dep), dep); err != nil {
		return false, "Waiting for the forum's Deployment: " + err.Error()
	}
	if dep.Status.ObservedGeneration < dep.Generation {
		return false, "Waiting for the forum's Deployment to be rolled out"
	}
	for _, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return true, ""
		}
	}
	return false, fmt.Sprintf("Waiting for the forum to be Available (%d of 1 replicas ready)", dep.Status.ReadyReplicas)
}

// forumEndpoint is where the operator reaches a deployed forum's API.
func (r *CollaborationSpaceReconciler) forumEndpoint(space *collabv1.CollaborationSpace) string {
	if r.Forum.EndpointOverride != "" {
		return r.Forum.EndpointOverride
	}
	return forumdeploy.ServiceURL(space.Name, space.Namespace)
}

// pingForum checks that the forum's API answers: NodeBB serves /api/v3/ping to anyone.
// The forum is the tenant's, so the check follows no redirect (which could send the
// operator to any address) and quotes nothing of the answer.
func (r *CollaborationSpaceReconciler) pingForum(ctx context.Context, space *collabv1.CollaborationSpace) error {
	hc := &http.Client{Timeout: 10 * time.Second}
	if r.Forum.HTTPClient != nil {
		c := *r.Forum.HTTPClient
		hc = &c
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.forumEndpoint(space)+"/api/v3/ping", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET /api/v3/ping: %w", nodebb.NoAnswer(err))
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode/100 == 3:
		return fmt.Errorf("GET /api/v3/ping: unexpected redirect (HTTP %d)", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET /api/v3/ping answered HTTP %d", resp.StatusCode)
	}
	return nil
}
