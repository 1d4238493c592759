package forumphase

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// forumRetry is how soon a forum that is starting is looked at again; its
// Deployment's status changes also start a pass.
const forumRetry = 15 * time.Second

// Settings say how the operator reaches the forums it deploys.
type Settings struct {
	// OperatorNamespace is admitted by each forum's NetworkPolicy.
	OperatorNamespace string
	// EndpointOverride, when set, is where every deployed forum's API is reached
	// instead of its Service: for a local cluster whose pods do not really run.
	EndpointOverride string
	// HTTPClient checks that the forum's API answers and mints its token.
	HTTPClient *http.Client
}

// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;persistentvolumeclaims,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=collab.opencommons.io,resources=forumbackends,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies;ingresses,verbs=get;list;watch;create;update;patch;delete

// Reconcile runs the department's forum and owns ForumReady. It is True only
// when the workloads are Available and the forum's API answers.
func (r *Phase) Reconcile(ctx context.Context, s *scope.Scope) (ctrl.Result, error) {
	space := s.Space
	switch {
	case space.Spec.Forum == nil:
		return ctrl.Result{}, r.removeForum(ctx, s)
	case space.Spec.Forum.Deploy == nil:
		return r.reconcileSharedForum(ctx, s)
	}
	if _, err := r.Forums.ForDeploy(space); err != nil {
		return ctrl.Result{}, s.Fail(collabv1.ForumReadyCondition, collabv1.ReasonWorkloadsFailed, reconcile.TerminalError(err))
	}
	if err := r.applyForumWorkloads(ctx, space); err != nil {
		return ctrl.Result{}, s.Fail(collabv1.ForumReadyCondition, collabv1.ReasonWorkloadsFailed,
			fmt.Errorf("cannot write the forum's workloads: %w", err))
	}
	if space.Status.Forum == nil {
		space.Status.Forum = &collabv1.ForumStatus{}
	}
	space.Status.Forum.URL, space.Status.Forum.Backend = r.DeployerOf(space).PublicURL(space), ""
	space.Status.Forum.Engine = forum.DeployedEngine(space)
	if ok, why := r.forumAvailable(ctx, space); !ok {
		scope.SetCondition(space, collabv1.ForumReadyCondition, metav1.ConditionFalse, collabv1.ReasonWorkloadsProgressing, why)
		return ctrl.Result{RequeueAfter: forumRetry}, nil
	}
	if err := r.pingForum(ctx, space); err != nil {
		scope.SetCondition(space, collabv1.ForumReadyCondition, metav1.ConditionFalse, collabv1.ReasonForumAPIUnreachable,
			"The forum runs but its API does not answer yet: "+err.Error())
		return ctrl.Result{RequeueAfter: forumRetry}, nil
	}
	fc, err := r.connectDeployedForum(ctx, space)
	if err != nil {
		reason, retry := tokenFailure(err)
		if prev := meta.FindStatusCondition(s.Before.Status.Conditions, collabv1.ForumReadyCondition); prev == nil || prev.Reason != reason {
			retry = min(retry, forumRetry) // one quick second try: the admin account may just be being made
		}
		scope.SetCondition(space, collabv1.ForumReadyCondition, metav1.ConditionFalse, reason, err.Error())
		return ctrl.Result{RequeueAfter: retry}, nil
	}
	reconnect := func(ctx context.Context) (forum.Client, error) { return r.deployedForumClient(ctx, space, true) }
	p := &forumPass{s: s, client: fc, planner: r.ForumEngine(space).Planner(), name: r.DeployerOf(space).Name(space.Name), reconnect: reconnect}
	return r.reconcileForumContent(ctx, s, p, forum.DefaultPollInterval)
}

// tokenFailure is ForumReady's reason, and when to look again, for a deployed
// forum the operator has no working token for. A forum that does not answer is
// still starting. A refused login is retried slowly: a forum may lock an account
// after a few failed logins.
func tokenFailure(err error) (string, time.Duration) {
	switch {
	case errors.Is(err, forum.ErrUnavailable):
		return collabv1.ReasonForumStarting, forumRetry
	case errors.Is(err, forum.ErrForbidden), errors.Is(err, forum.ErrUnauthorized):
		// After one quick second try (Reconcile): a forum may lock an
		// account after a few failed logins.
		return collabv1.ReasonForumLoginFailed, forum.DefaultPollInterval
	}
	return collabv1.ReasonForumTokenFailed, forumRetry
}

// removeForum carries out the deletionPolicy on the forum a space no longer asks
// for, as deleting the space would (docs/operations.md): under Archive the
// categories are disabled and the groups kept, and a deployed forum keeps its
// volume, its admin Secret and a stopped Deployment while the rest is removed;
// under Retain everything is let go as it is; under Delete a shared forum's
// categories and groups are deleted and a deployed forum goes with its volume.
// Objects that are kept are released (no owner reference), so the space can ask
// for the forum again and find them.
func (r *Phase) removeForum(ctx context.Context, s *scope.Scope) error {
	space := s.Space
	st := space.Status.Forum
	if st == nil {
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ForumReadyCondition)
		return nil
	}
	policy := scope.DeletionPolicyOf(space)
	// The deletion code reads the forum from the spec; give it the one removed.
	was := space.DeepCopy()
	deployed := st.Backend == "" && st.ParentCategoryID == 0
	var err error
	switch {
	case deployed:
		was.Spec.Forum = &collabv1.ForumSpec{Deploy: &collabv1.ForumDeploy{Engine: st.Engine}}
		err = r.Delete(ctx, &scope.Scope{Space: was, Before: was}, policy)
		if err == nil {
			err = r.releaseForumWorkloads(ctx, space, policy)
		}
	case st.Backend == "":
		// A status from a release that did not record the backend.
		r.RecordWarning(space, collabv1.ReasonForumBackendUnknown, "Delete", "Forum categories and groups left as they are: "+
			"the space's status does not say which ForumBackend they are on")
	default:
		was.Spec.Forum = &collabv1.ForumSpec{BackendRef: &collabv1.LocalObjectReference{Name: st.Backend}}
		err = r.Delete(ctx, &scope.Scope{Space: was, Before: was}, policy)
	}
	if err != nil {
		scope.SetCondition(space, collabv1.ForumReadyCondition, metav1.ConditionFalse, collabv1.ReasonForumRemovalFailed,
			fmt.Sprintf("Cannot carry out deletionPolicy %s on the forum the space no longer lists, retrying: %v", policy, err))
		return err
	}
	meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ForumReadyCondition)
	space.Status.Forum = nil
	metrics.ManagedCategories.DeleteLabelValues(space.Namespace, space.Name)
	return nil
}

// Delete carries out the deletion policy on the space's categories
// (and, under Delete, its groups) through the forum's API. A deployed forum deleted
// with its volume needs no API calls; a forum the operator never had a token for
// holds nothing the operator made.
func (r *Phase) Delete(ctx context.Context, s *scope.Scope, policy collabv1.DeletionPolicy) error {
	space := s.Space
	f := space.Spec.Forum
	if f == nil || space.Status.Forum == nil || policy == collabv1.DeletionPolicyRetain {
		return nil
	}
	if f.Deploy != nil {
		if policy == collabv1.DeletionPolicyDelete {
			return nil
		}
		fc, err := r.connectDeployedForum(ctx, space)
		if err != nil {
			return nil
		}
		return r.retireForumContent(ctx, fc, r.ForumEngine(space).Planner(), space)
	}
	conn, err := connect.ToForumBackend(ctx, r.Client, r.Credentials(), r.Forums, f.BackendRef.Name)
	if apierrors.IsNotFound(err) {
		r.RecordWarning(space, collabv1.ReasonForumBackendMissing, "Delete", "Categories left as they are: %v", err)
		return nil
	}
	if err != nil {
		return err
	}
	return r.retireForumContent(ctx, conn.Client, conn.Planner, space)
}

// LeftBehind names what a space has in its forum, by id.
func LeftBehind(space *collabv1.CollaborationSpace) string {
	st := space.Status.Forum
	if st == nil {
		return "nothing recorded in status"
	}
	var items []string
	if st.ParentCategoryID != 0 {
		items = append(items, fmt.Sprintf("department category %d", st.ParentCategoryID))
	}
	for _, c := range st.Categories {
		items = append(items, fmt.Sprintf("category %s (%d)", c.Name, c.ID))
	}
	for _, g := range st.Groups {
		items = append(items, "group "+g)
	}
	where := ""
	if f := space.Spec.Forum; f != nil && f.BackendRef != nil {
		where = "in ForumBackend " + f.BackendRef.Name + ": "
	}
	return where + scope.BoundedList(items)
}

// releaseForumWorkloads carries out the deletion policy on a deployed forum's
// workloads and admin Secret (not on the space's other objects).
func (r *Phase) releaseForumWorkloads(ctx context.Context, space *collabv1.CollaborationSpace,
	policy collabv1.DeletionPolicy) error {
	var kinds []scope.OwnedKind
	for _, k := range scope.OwnedKinds {
		switch k.Kind {
		case "Role", "RoleBinding", "Secret":
		default:
			kinds = append(kinds, k)
		}
	}
	objs, err := r.OwnedObjects(ctx, space, kinds)
	if err != nil {
		return err
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: space.Namespace, Name: r.DeployerOf(space).AdminSecretName(space.Name)}
	switch err := r.Get(ctx, key, secret); {
	case err == nil && metav1.IsControlledBy(secret, space):
		objs = append(objs, scope.OwnedObject{Object: secret, OwnedKind: scope.OwnedKind{Kind: "Secret", Archive: scope.ArchiveKeep}})
	case client.IgnoreNotFound(err) != nil:
		return fmt.Errorf("cannot get Secret %s: %w", key.Name, err)
	}
	for _, obj := range objs {
		if err := r.RetireObject(ctx, space, obj, policy); err != nil {
			return err
		}
	}
	return nil
}

// reconcileSharedForum gives the space its own category, groups and categories in a
// shared forum (a ForumBackend).
func (r *Phase) reconcileSharedForum(ctx context.Context, s *scope.Scope) (ctrl.Result, error) {
	conn, err := connect.ToForumBackend(ctx, r.Client, r.Credentials(), r.Forums, s.Space.Spec.Forum.BackendRef.Name)
	if err != nil {
		return ctrl.Result{}, s.Fail(collabv1.ForumReadyCondition, collabv1.ReasonForumBackendUnavailable, err)
	}
	backend := conn.Backend
	interval := backend.Spec.PollInterval.Duration
	if interval == 0 {
		interval = forum.DefaultPollInterval
	}
	if s.Space.Status.Forum == nil {
		s.Space.Status.Forum = &collabv1.ForumStatus{}
	}
	s.Space.Status.Forum.Backend = backend.Name
	p := &forumPass{s: s, client: conn.Client, planner: conn.Planner, name: "ForumBackend/" + backend.Name, shared: true}
	return r.reconcileForumContent(ctx, s, p, interval)
}

// reconcileForumContent converges the forum's groups, categories and privileges and
// sets ForumReady from the outcome.
func (r *Phase) reconcileForumContent(ctx context.Context, s *scope.Scope, p *forumPass,
	interval time.Duration) (ctrl.Result, error) {
	space := s.Space
	status, err := r.applyForumContent(ctx, p)
	if err != nil {
		return ctrl.Result{}, s.Fail(collabv1.ForumReadyCondition, collabv1.ReasonForumFailed, err)
	}
	if space.Status.Forum != nil {
		status.URL, status.Backend, status.Engine = space.Status.Forum.URL, space.Status.Forum.Backend, space.Status.Forum.Engine
	}
	space.Status.Forum = status
	metrics.ManagedCategories.WithLabelValues(space.Namespace, space.Name).Set(float64(len(status.Categories)))
	if len(p.drift) > 0 {
		r.RecordWarning(space, collabv1.ReasonDriftCorrected, "Update", "Put back forum changes made by hand: %s", strings.Join(p.drift, "; "))
		s.Drift = append(s.Drift, p.drift...)
	}
	msg := fmt.Sprintf("%s with their groups and privileges on %s", scope.Counted(len(status.Categories), "category"), p.name)
	if pending := distinct(p.pending); len(pending) > 0 {
		n := len(pending)
		msg += fmt.Sprintf("; %d %s no forum account yet and %s at their first login: %s", n,
			plural(n, "member has", "members have"), plural(n, "joins", "join"), someNames(pending, 5))
	}
	scope.SetCondition(space, collabv1.ForumReadyCondition, metav1.ConditionTrue, collabv1.ReasonCategoriesReady, msg)
	return ctrl.Result{RequeueAfter: interval}, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// distinct returns the names sorted, each once.
func distinct(names []string) []string {
	names = slices.Clone(names)
	slices.Sort(names)
	return slices.Compact(names)
}

// someNames lists up to max of the (distinct, sorted) names and says how many
// more there are.
func someNames(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}

// connectDeployedForum returns a client for a deployed forum with the API token in
// its admin Secret, minted first when there is none yet (deployedForumClient).
func (r *Phase) connectDeployedForum(ctx context.Context, space *collabv1.CollaborationSpace) (forum.Client, error) {
	return r.deployedForumClient(ctx, space, false)
}

// deployedForumClient returns a client for a deployed forum with the API token in
// its admin Secret. When there is none yet, or renew says the forum refused the
// one there, it has the connector mint one by logging in with the admin
// credentials it generated (which the forum's setup gave the admin account) and
// stores it in the Secret, so no person has to.
func (r *Phase) deployedForumClient(ctx context.Context, space *collabv1.CollaborationSpace, renew bool) (forum.Client, error) {
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: space.Namespace, Name: r.DeployerOf(space).AdminSecretName(space.Name)}
	if err := r.Get(ctx, key, secret); err != nil {
		return nil, fmt.Errorf("cannot read the forum's admin Secret: %w", err)
	}
	if renew || len(secret.Data[forum.SecretToken]) == 0 {
		if err := r.mintForumToken(ctx, space, secret); err != nil {
			return nil, err
		}
	}
	return r.ForumEngine(space).Connect(ctx, key.String(), r.forumEndpoint(space), secret)
}

// mintForumToken mints an API token for the forum's admin account and stores it,
// with the account's uid, in the admin Secret.
func (r *Phase) mintForumToken(ctx context.Context, space *collabv1.CollaborationSpace, secret *corev1.Secret) error {
	username := string(secret.Data[forum.AdminUsernameKey])
	tok, err := r.ForumEngine(space).MintToken(ctx, forum.Login{
		URL: r.forumEndpoint(space), Username: username, Password: string(secret.Data[forum.AdminPasswordKey]),
		Description: "collab-operator for " + space.Namespace + "/" + space.Name, HTTPClient: r.Settings.HTTPClient,
	})
	if err != nil {
		return fmt.Errorf("cannot create the forum's API token as %s with the password in Secret %s: %w", username, secret.Name, err)
	}
	secret.Data[forum.SecretToken] = []byte(tok.Secret)
	secret.Data[forum.SecretUID] = []byte(strconv.FormatInt(tok.UID, 10))
	if err := r.Update(ctx, secret); err != nil {
		return fmt.Errorf("cannot store the forum's API token in Secret %s: %w", secret.Name, err)
	}
	r.RecordChange(space, collabv1.ReasonForumTokenCreated, "Create", "Created the forum's API token as %s and stored it in Secret %s", username, secret.Name)
	return nil
}

// applyForumWorkloads writes the admin Secret (once), the volume, the Deployment,
// Service, NetworkPolicy and the Ingress when one is asked for.
func (r *Phase) applyForumWorkloads(ctx context.Context, space *collabv1.CollaborationSpace) error {
	ns, name := space.Namespace, space.Name
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: r.DeployerOf(space).AdminSecretName(name), Namespace: ns}}
	if err := r.ApplyOwned(ctx, space, secret, "Secret", func() error { return fillAdminSecret(secret, name) }); err != nil {
		return err
	}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: r.DeployerOf(space).VolumeName(name), Namespace: ns}}
	if err := r.ApplyOwned(ctx, space, pvc, "PersistentVolumeClaim", func() error {
		if pvc.CreationTimestamp.IsZero() { // a claim's spec is fixed once bound
			pvc.Spec = r.DeployerOf(space).Volume(space)
		}
		return nil
	}); err != nil {
		return err
	}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: r.DeployerOf(space).Name(name), Namespace: ns}}
	if err := r.ApplyOwned(ctx, space, dep, "Deployment", func() error {
		scope.SetIfDiffers(&dep.Spec, r.DeployerOf(space).Deployment(space, 1))
		return nil
	}); err != nil {
		return err
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: r.DeployerOf(space).Name(name), Namespace: ns}}
	if err := r.ApplyOwned(ctx, space, svc, "Service", func() error {
		scope.SetIfDiffers(&svc.Spec, r.DeployerOf(space).Service(name))
		return nil
	}); err != nil {
		return err
	}
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: r.DeployerOf(space).Name(name), Namespace: ns}}
	if err := r.ApplyOwned(ctx, space, np, "NetworkPolicy", func() error {
		scope.SetIfDiffers(&np.Spec, r.DeployerOf(space).NetworkPolicy(space, r.Settings.OperatorNamespace))
		return nil
	}); err != nil {
		return err
	}
	return r.applyForumIngress(ctx, space)
}

func (r *Phase) applyForumIngress(ctx context.Context, space *collabv1.CollaborationSpace) error {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: r.DeployerOf(space).Name(space.Name), Namespace: space.Namespace}}
	desired := r.DeployerOf(space).Ingress(space)
	if desired == nil {
		if err := r.Get(ctx, client.ObjectKeyFromObject(ing), ing); err != nil {
			return nil // none to remove
		}
		if !metav1.IsControlledBy(ing, space) {
			return nil
		}
		return r.DeleteObject(ctx, space, ing, "Ingress")
	}
	return r.ApplyOwned(ctx, space, ing, "Ingress", func() error {
		scope.SetIfDiffers(&ing.Spec, *desired)
		return nil
	})
}

// fillAdminSecret generates the forum's admin credentials the first time only: a
// password that was ever used must never change under the running forum.
func fillAdminSecret(secret *corev1.Secret, space string) error {
	if len(secret.Data[forum.AdminPasswordKey]) > 0 {
		return nil
	}
	password, err := randomHex(24)
	if err != nil {
		return err
	}
	secret.Type = corev1.SecretTypeOpaque
	secret.Data = map[string][]byte{
		forum.AdminUsernameKey: []byte("collab-admin"),
		forum.AdminPasswordKey: []byte(password),
		forum.AdminEmailKey:    []byte("collab-admin@" + space + ".invalid"),
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
func (r *Phase) forumAvailable(ctx context.Context, space *collabv1.CollaborationSpace) (bool, string) {
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: r.DeployerOf(space).Name(space.Name), Namespace: space.Namespace}}
	if err := r.Get(ctx, client.ObjectKeyFromObject(dep), dep); err != nil {
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
func (r *Phase) forumEndpoint(space *collabv1.CollaborationSpace) string {
	if r.Settings.EndpointOverride != "" {
		return r.Settings.EndpointOverride
	}
	return r.DeployerOf(space).ServiceURL(space.Name, space.Namespace)
}

// pingForum checks that the forum's API answers, before the operator has a token for it.
func (r *Phase) pingForum(ctx context.Context, space *collabv1.CollaborationSpace) error {
	return r.ForumEngine(space).Ping(ctx, r.forumEndpoint(space), r.Settings.HTTPClient)
}

// forumPhase keeps the space's forum: deployed or on a ForumBackend.
type Phase struct {
	*scope.Kit
	Settings Settings
}
