// Package peopledirectory is the PeopleDirectory controller: it polls each LDAP
// directory for the groups spaces name, puts what it resolves in the shared
// directory.Registry the spaces' passes read, and wakes exactly the spaces whose
// groups changed.
package peopledirectory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/directory"
	"github.com/opencommons/collab-operator/internal/fingerprint"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/statuspatch"
)

// Keys of a PeopleDirectory's bind Secret.
const (
	secretBindDN       = "bindDN"
	secretBindPassword = "password"
)

// Reconciler polls each PeopleDirectory for the groups the spaces
// use. Every poll costs one query (the change token); only when it moved, when
// spaces ask for other groups, or every fullSyncInterval are the groups read
// again. What it resolves goes into the Registry, where spaces' passes find it,
// and a digest of each group into the status, whose changes wake exactly the
// spaces that use a changed group.
type Reconciler struct {
	client.Client
	Recorder events.EventRecorder
	// APIReader reads the bind Secret without caching it; the Client when nil.
	APIReader client.Reader
	// CredentialsNamespace is the one namespace bind Secrets are read from.
	CredentialsNamespace string
	// Registry receives what each directory resolved.
	Registry *directory.Registry
	// ResolveOnly: another manager writes the directories' status; this one, a
	// shard's (shard.go), resolves the groups its own spaces use for them, and
	// wakes them through Wake when a resolution is stored.
	ResolveOnly bool
	Wake        func(*collabv1.CollaborationSpace)

	mu     sync.Mutex
	states map[string]*directoryState
}

// directoryState is what a directory's polls remember between them.
type directoryState struct {
	source      directory.Source
	fingerprint string
	token       string
	groupsKey   string
	lastFull    time.Time
	queries     int64
}

// +kubebuilder:rbac:groups=collab.opencommons.io,resources=peopledirectories,verbs=get;list;watch
// +kubebuilder:rbac:groups=collab.opencommons.io,resources=peopledirectories/status,verbs=patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Reconcile polls one directory.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	dir := &collabv1.PeopleDirectory{}
	if err := r.Get(ctx, req.NamespacedName, dir); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.forget(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := dir.DeepCopy()
	poll := pollEvery(dir.Spec.PollInterval.Duration, time.Minute)
	defer func() {
		if err := r.patchStatus(ctx, before, dir); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()
	if err := r.poll(ctx, dir); err != nil {
		r.Registry.Fail(dir.Name, err)
		reason, msg := directoryErrorReason(err)
		ctrl.LoggerFrom(ctx).Info("Cannot read the directory; spaces keep their last resolved members", "reason", reason)
		setDirectoryReady(dir, metav1.ConditionFalse, reason, msg)
		return ctrl.Result{RequeueAfter: poll}, nil
	}
	return ctrl.Result{RequeueAfter: poll}, nil
}

func pollEvery(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// poll reads the change token and resolves the groups when needed.
func (r *Reconciler) poll(ctx context.Context, dir *collabv1.PeopleDirectory) error {
	st, err := r.state(ctx, dir)
	if err != nil {
		return err
	}
	defer r.countQueries(dir.Name, st)
	groups, err := groupsInUse(ctx, r.Client, dir.Name)
	if err != nil {
		return err
	}
	groupsKey := fmt.Sprint(groups)
	token, mechanism, err := st.source.Token(ctx)
	if err != nil {
		_ = st.source.Close() // dial afresh next time
		return err
	}
	dir.Status.ChangeDetection = mechanism
	_, lastErr, resolved := r.Registry.Lookup(dir.Name)
	fullSync := pollEvery(dir.Spec.FullSyncInterval.Duration, time.Hour)
	reason := ""
	switch {
	case !resolved || lastErr != nil || token == "" || time.Since(st.lastFull) >= fullSync:
		reason = "full"
	case token != st.token:
		reason = "changed"
	case groupsKey != st.groupsKey:
		reason = "groups"
	}
	if reason != "" {
		found, err := st.source.Resolve(ctx, groups)
		if err != nil {
			_ = st.source.Close()
			return err
		}
		metrics.DirectoryResolutions.WithLabelValues(dir.Name, reason).Inc()
		r.Registry.Store(dir.Name, found)
		st.token, st.groupsKey, st.lastFull = token, groupsKey, time.Now()
		setGroupStatus(dir, groups, found)
		if r.ResolveOnly {
			r.wakeSpaces(ctx, dir.Name)
		}
	}
	setDirectoryReady(dir, metav1.ConditionTrue, collabv1.ReasonResolved, fmt.Sprintf(
		"%d groups in use, %d people; changes detected by %s", len(dir.Status.Groups), dir.Status.People,
		dir.Status.ChangeDetection))
	return nil
}

// setGroupStatus records each group's size and digest, and when they changed.
func setGroupStatus(dir *collabv1.PeopleDirectory, names []string, found map[string]directory.Group) {
	people := map[string]bool{}
	out := make([]collabv1.DirectoryGroupStatus, 0, len(names))
	for _, n := range names {
		g := found[n]
		for _, p := range g.People {
			people[p.Username] = true
		}
		out = append(out, collabv1.DirectoryGroupStatus{Name: n, Found: g.Found, People: int32(len(g.People)), Digest: g.Digest()})
	}
	if !equality.Semantic.DeepEqual(out, dir.Status.Groups) || dir.Status.People != int32(len(people)) {
		now := metav1.Now()
		dir.Status.LastChangeTime = &now
	}
	dir.Status.Groups, dir.Status.People = out, int32(len(people))
}

func (r *Reconciler) countQueries(name string, st *directoryState) {
	q, ok := st.source.(interface{ Queries() int64 })
	if !ok {
		return
	}
	n := q.Queries()
	if d := n - st.queries; d > 0 {
		metrics.DirectoryQueries.WithLabelValues(name).Add(float64(d))
	}
	st.queries = n
}

// state returns the directory's source, built anew when its spec or bind Secret
// changed. The Secret is read like backends' credentials: by name, uncached, from
// the credentials namespace only.
func (r *Reconciler) state(ctx context.Context, dir *collabv1.PeopleDirectory) (*directoryState, error) {
	var cfg directory.LDAPConfig
	if l := dir.Spec.LDAP; l != nil {
		cfg.Spec = *l
		if ref := l.BindSecretRef; ref != nil {
			creds := connect.NewCredentials(r.APIReader, r.Client, r.CredentialsNamespace)
			secret, err := creds.Secret(ctx, "PeopleDirectory "+dir.Name, *ref)
			if err != nil {
				return nil, err
			}
			cfg.BindDN, cfg.Password = string(secret.Data[secretBindDN]), string(secret.Data[secretBindPassword])
			if cfg.BindDN == "" || cfg.Password == "" {
				return nil, &bindSecretError{fmt.Sprintf("bind Secret %s must hold %s and %s", ref.Name, secretBindDN, secretBindPassword)}
			}
		}
	}
	fp := fingerprint.Of(fmt.Sprintf("%d", dir.Generation), string(dir.UID), cfg.BindDN, cfg.Password)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.states == nil {
		r.states = map[string]*directoryState{}
	}
	if st, ok := r.states[dir.Name]; ok && st.fingerprint == fp {
		return st, nil
	}
	var src directory.Source
	switch {
	case dir.Spec.LDAP != nil:
		s, err := directory.NewLDAP(cfg)
		if err != nil {
			return nil, &bindSecretError{err.Error()}
		}
		src = s
	case dir.Spec.Static != nil:
		src = directory.NewStatic(*dir.Spec.Static)
	default:
		return nil, &bindSecretError{"the directory has neither ldap nor static"}
	}
	if old, ok := r.states[dir.Name]; ok {
		_ = old.source.Close()
	}
	st := &directoryState{source: src, fingerprint: fp}
	r.states[dir.Name] = st
	return st, nil
}

func (r *Reconciler) forget(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.states[name]; ok {
		_ = st.source.Close()
		delete(r.states, name)
	}
	r.Registry.Forget(name)
}

// bindSecretError says the directory's configuration or bind Secret cannot be
// used; it names keys, never values.
type bindSecretError struct{ msg string }

func (e *bindSecretError) Error() string { return e.msg }

func directoryErrorReason(err error) (string, string) {
	var bse *bindSecretError
	switch {
	case connect.IsNamespaceForbidden(err):
		return collabv1.ReasonCredentialsNamespaceForbidden, err.Error()
	case errors.As(err, &bse):
		return collabv1.ReasonBindSecretInvalid, err.Error()
	case errors.Is(err, directory.ErrBindRejected):
		return collabv1.ReasonBindRejected, "The directory refused the bind credentials; fix the bind Secret. " +
			"Spaces keep their last resolved members and nobody is removed"
	}
	return collabv1.ReasonDirectoryUnavailable, "Cannot read the directory (" + err.Error() + "); retrying every poll. " +
		"Spaces keep their last resolved members and nobody is removed"
}

func setDirectoryReady(dir *collabv1.PeopleDirectory, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&dir.Status.Conditions, metav1.Condition{Type: collabv1.ReadyCondition, Status: status,
		Reason: reason, Message: msg, ObservedGeneration: dir.Generation})
	if status == metav1.ConditionTrue {
		dir.Status.ObservedGeneration = dir.Generation
	}
}

// wakeSpaces wakes this manager's spaces that resolve groups through the
// directory: in a shard, no status write of its own does.
func (r *Reconciler) wakeSpaces(ctx context.Context, dirName string) {
	if r.Wake == nil {
		return
	}
	var spaces collabv1.CollaborationSpaceList // read only: the cache's own objects
	if err := r.List(ctx, &spaces, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	for i := range spaces.Items {
		s := &spaces.Items[i]
		if len(directory.GroupsOf(s)) == 0 {
			continue
		}
		if d, err := directory.NameFor(ctx, r.Client, s); err == nil && d == dirName {
			r.Wake(s)
		}
	}
}

// patchStatus writes the status only when it changed: an unchanged directory
// writes nothing. A shard's reconciler writes none (ResolveOnly).
func (r *Reconciler) patchStatus(ctx context.Context, before, dir *collabv1.PeopleDirectory) error {
	if r.ResolveOnly {
		return nil
	}
	return statuspatch.Patch(ctx, r.Client, before, dir, collabv1.ReadyCondition)
}

// groupsInUse lists, sorted, the Group members of the spaces that resolve their
// groups through the named directory.
func groupsInUse(ctx context.Context, c client.Reader, dirName string) ([]string, error) {
	// Read only: the cache's own objects. A copy of every space on each poll
	// was 50 MiB of garbage at a time at 10,000 spaces.
	var spaces collabv1.CollaborationSpaceList
	if err := c.List(ctx, &spaces, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("cannot list spaces: %w", err)
	}
	set := map[string]bool{}
	for i := range spaces.Items {
		s := &spaces.Items[i]
		names := directory.GroupsOf(s)
		if len(names) == 0 {
			continue
		}
		d, err := directory.NameFor(ctx, c, s)
		if err != nil || d != dirName {
			continue
		}
		for _, n := range names {
			set[n] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// SetupWithManager polls directories, and polls one again at once when spaces
// start or stop using a group, or a backend points elsewhere.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	all := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		var dirs collabv1.PeopleDirectoryList // names only: the cache's own objects, no copy of their status
		if err := r.List(ctx, &dirs, client.UnsafeDisableDeepCopy); err != nil {
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(dirs.Items))
		for _, d := range dirs.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: d.Name}})
		}
		return reqs
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&collabv1.PeopleDirectory{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&collabv1.CollaborationSpace{}, all, builder.WithPredicates(groupsChanged())).
		Watches(&collabv1.ChatBackend{}, all, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&collabv1.ForumBackend{}, all, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(opts).
		Named("peopledirectory").
		Complete(r)
}

// groupsChanged lets through space events that change which groups are in use.
func groupsChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool {
			s, ok := e.Object.(*collabv1.CollaborationSpace)
			return !ok || len(directory.GroupsOf(s)) > 0
		},
		DeleteFunc: func(e event.DeleteEvent) bool {
			s, ok := e.Object.(*collabv1.CollaborationSpace)
			return !ok || len(directory.GroupsOf(s)) > 0
		},
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*collabv1.CollaborationSpace)
			n, ok2 := e.ObjectNew.(*collabv1.CollaborationSpace)
			return !ok1 || !ok2 || !slices.Equal(directory.GroupsOf(o), directory.GroupsOf(n))
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}
