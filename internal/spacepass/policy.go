package spacepass

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/policy"
	"github.com/opencommons/collab-operator/internal/spaceindex"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// The platform's bounds on a space, enforced on every pass: the CollaborationPolicies
// that select its namespace, and the namespaceSelector of the backends it names. The
// rules are the ValidatingAdmissionPolicies of config/admission, evaluated here with
// the API server's own CEL library (internal/policy), so a space the API server would
// refuse today is refused here in the same words, whether the policy was tightened
// after the space was admitted or the cluster has no admission policies at all.

// +kubebuilder:rbac:groups=collab.opencommons.io,resources=collaborationpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// maxViolationsShown bounds the violations a condition message lists.
const maxViolationsShown = 5

// policyEvaluator compiles the embedded admission policies once per process.
var policyEvaluator = sync.OnceValues(policy.New)

// enforcePolicy judges the space before any phase runs and owns PolicyCompliant. A
// space that breaks a rule is left as it is: stop is true, the condition says which
// field breaks which rule of which policy, and the returned error is terminal, so
// the space is Stalled with reason PolicyViolation until it or the policy changes
// (both wake it). A policy that cannot be read also stops the pass, and is retried:
// the operator does not act on a space it cannot judge.
func (r *Pass) enforcePolicy(ctx context.Context, s *scope.Scope) (stop bool, _ error) {
	space := s.Space
	violations, sel, err := r.judgeSpace(ctx, space)
	if err != nil {
		scope.SetCondition(space, collabv1.PolicyCompliantCondition, metav1.ConditionUnknown, collabv1.ReasonPolicyUnknown,
			"Cannot judge the space against its CollaborationPolicies, retrying: "+err.Error())
		return true, err
	}
	if len(violations) > 0 {
		msg := violationMessage(violations) + r.stillRunning(ctx, space, violations)
		if c := meta.FindStatusCondition(s.Before.Status.Conditions, collabv1.PolicyCompliantCondition); c == nil || c.Message != msg {
			r.kit().RecordWarning(space, collabv1.ReasonPolicyViolation, "Reconcile", "%s", msg)
		}
		scope.SetCondition(space, collabv1.PolicyCompliantCondition, metav1.ConditionFalse, collabv1.ReasonPolicyViolation, msg)
		return true, reconcile.TerminalError(errors.New(msg))
	}
	s.PeopleLimit = sel.people
	if selecting := sel.names; len(selecting) == 0 {
		scope.SetCondition(space, collabv1.PolicyCompliantCondition, metav1.ConditionTrue, collabv1.ReasonNoPolicy,
			fmt.Sprintf("No CollaborationPolicy selects namespace %s", space.Namespace))
	} else {
		scope.SetCondition(space, collabv1.PolicyCompliantCondition, metav1.ConditionTrue, collabv1.ReasonCompliant,
			"Allowed by CollaborationPolicy "+strings.Join(selecting, ", "))
	}
	return false, nil
}

// stillRunning says, for a space whose forum image a policy forbids, that its
// Deployment still runs the image: the operator changes nothing of a space that
// breaks a policy, so a policy tightened after the forum was deployed does not
// stop it, and the platform team must not believe it did. It emits a Warning
// event when that is new, and returns the sentence for PolicyCompliant.
func (r *Pass) stillRunning(ctx context.Context, space *collabv1.CollaborationSpace,
	violations []policy.Violation) string {
	if !slices.ContainsFunc(violations, func(v policy.Violation) bool { return v.Field == "spec.forum.deploy.image" }) {
		return ""
	}
	dep := &appsv1.Deployment{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: space.Namespace, Name: r.kit().DeployerOf(space).Name(space.Name)}, dep); err != nil ||
		len(dep.Spec.Template.Spec.Containers) == 0 {
		return ""
	}
	note := fmt.Sprintf("; the forum's Deployment %s still runs %s: the operator stops nothing of a space that breaks a "+
		"policy, so change the image or scale the Deployment down", dep.Name, dep.Spec.Template.Spec.Containers[0].Image)
	if c := meta.FindStatusCondition(space.Status.Conditions, collabv1.PolicyCompliantCondition); c == nil ||
		!strings.Contains(c.Message, note) {
		r.kit().RecordWarning(space, collabv1.ReasonForbiddenImageRunning, "Reconcile", "%s", strings.TrimPrefix(note, "; "))
	}
	return note
}

// violationMessage is PolicyCompliant's message: what breaks which rule, and what
// to do, bounded in length.
func violationMessage(violations []policy.Violation) string {
	msgs := make([]string, 0, maxViolationsShown)
	for i, v := range violations {
		if i == maxViolationsShown {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(violations)-i))
			break
		}
		msgs = append(msgs, v.Message)
	}
	return "Nothing is changed until the space or the policy is: " + strings.Join(msgs, "; ")
}

// judgeSpace evaluates the space against every CollaborationPolicy and the backends
// it names, and returns what it breaks and the names of the policies that select
// its namespace.
func (r *Pass) judgeSpace(ctx context.Context, space *collabv1.CollaborationSpace) (
	[]policy.Violation, selection, error) {
	eval, err := policyEvaluator()
	if err != nil {
		return nil, selection{}, fmt.Errorf("cannot compile the admission policies: %w", err)
	}
	ns, err := policy.NamespaceOf(ctx, r.Client, space.Namespace)
	if err != nil {
		return nil, selection{}, fmt.Errorf("cannot read namespace %s: %w", space.Namespace, err)
	}
	in, sel, err := r.policyInput(ctx, space, ns)
	if err != nil {
		return nil, selection{}, err
	}
	return eval.Evaluate(ctx, in), sel, nil
}

// selection is what the policies that select a space's namespace say beyond
// their rules: their names, and the bound on its people.
type selection struct {
	names  []string
	people *scope.PeopleLimit
}

// policyInput gathers what the admission policies are evaluated against: every
// CollaborationPolicy, and the backends the space names (a backend it does not
// name never forbids anything).
func (r *Pass) policyInput(ctx context.Context, space *collabv1.CollaborationSpace,
	ns *corev1.Namespace) (policy.Input, selection, error) {
	var sel selection
	obj, err := policy.Unstructured(space, collabv1.GroupVersion.WithKind("CollaborationSpace"))
	if err != nil {
		return policy.Input{}, sel, err
	}
	in := policy.Input{Space: obj, Namespace: ns, Operation: policy.Update}
	if in.Old, err = policy.Unstructured(heldBefore(space), collabv1.GroupVersion.WithKind("CollaborationSpace")); err != nil {
		return policy.Input{}, sel, err
	}
	var policies collabv1.CollaborationPolicyList
	if err := r.List(ctx, &policies); err != nil {
		return policy.Input{}, sel, fmt.Errorf("cannot list CollaborationPolicies: %w", err)
	}
	for i := range policies.Items {
		p := &policies.Items[i]
		if policy.SelectsNamespace(p.Spec.NamespaceSelector, ns) {
			sel.names = append(sel.names, p.Name)
			sel.people = sel.people.Tighter(p)
		}
		if err := in.AddParam(p, collabv1.GroupVersion.WithKind("CollaborationPolicy")); err != nil {
			return policy.Input{}, sel, err
		}
	}
	slices.Sort(sel.names)
	if c := space.Spec.Chat; c != nil && c.BackendRef != nil {
		backend := &collabv1.ChatBackend{}
		if err := r.getBackend(ctx, c.BackendRef.Name, backend, &in, "ChatBackend"); err != nil {
			return policy.Input{}, sel, err
		}
	}
	if f := space.Spec.Forum; f != nil && f.BackendRef != nil {
		backend := &collabv1.ForumBackend{}
		if err := r.getBackend(ctx, f.BackendRef.Name, backend, &in, "ForumBackend"); err != nil {
			return policy.Input{}, sel, err
		}
	}
	return in, sel, nil
}

// heldBefore is the space as the policies judge it was before: without the
// backendRefs it has nothing recorded on yet. A reference the space holds rooms
// or categories through is one it already had, and keeps while the backend is
// being deleted (its deletionPolicy needs it); one it has nothing on is judged
// as newly added, so a space updated to name a backend that is being deleted
// (which admission refuses, where installed) never starts on it.
func heldBefore(space *collabv1.CollaborationSpace) *collabv1.CollaborationSpace {
	old := space.DeepCopy()
	if old.Spec.Chat != nil && !spaceindex.HoldsChat(space) {
		old.Spec.Chat.BackendRef = nil
	}
	if old.Spec.Forum != nil && !spaceindex.HoldsForum(space) {
		old.Spec.Forum.BackendRef = nil
	}
	return old
}

// getBackend adds a backend to the input; one that does not exist is left to the
// chat and forum phases to report.
func (r *Pass) getBackend(ctx context.Context, name string, obj client.Object, in *policy.Input, kind string) error {
	if err := r.Get(ctx, client.ObjectKey{Name: name}, obj); err != nil {
		return client.IgnoreNotFound(err)
	}
	return in.AddParam(obj, collabv1.GroupVersion.WithKind(kind))
}
