package spacepass

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/outcome"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

func TestCounted(t *testing.T) {
	cases := map[string]struct {
		n    int
		noun string
		want string
	}{
		"one room":       {1, "room", "1 room"},
		"no rooms":       {0, "room", "0 rooms"},
		"two categories": {2, "category", "2 categories"},
		"one category":   {1, "category", "1 category"},
		"three members":  {3, "member", "3 members"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := scope.Counted(tc.n, tc.noun); got != tc.want {
				t.Errorf("counted(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
			}
		})
	}
}

// TestSummarizeTellsALeadWhatIsGoingOn: what `kubectl describe` and kstatus
// (Flux's wait, Argo CD) show a department lead after each kind of pass at a new
// generation.
func TestSummarizeTellsALeadWhatIsGoingOn(t *testing.T) {
	pending := metav1.Condition{Type: collabv1.ChatReadyCondition, Status: metav1.ConditionFalse,
		Reason: "SharedSpacePending", Message: "Waiting for space dept-marketing/marketing to be created"}
	conflict := outcome.Classify(collabv1.ChatReadyCondition, "ChatFailed", reconcile.TerminalError(fmt.Errorf(
		"cannot create room #ns.eng.general:example.org: alias #ns.eng.general:example.org is taken by a room of another owner (!x:example.org): %w",
		chat.ErrAliasConflict)))
	violation := outcome.Classify("", "", reconcile.TerminalError(fmt.Errorf(
		"Nothing is changed until the space or the policy is: spec.deletionPolicy: Delete is not allowed by policy strict; spec.forum.deploy.image: image evil is not allowed")))
	violation.Reason = collabv1.ReasonPolicyViolation
	type want struct {
		observedGeneration int64
		reconcilingReason  string
		stalledMessage     string
	}
	cases := map[string]struct {
		phase *metav1.Condition
		errs  []*outcome.Error
		want  want
	}{
		"waiting for a shared space: Reconciling says why, at this generation": {
			phase: &pending,
			want:  want{observedGeneration: 3, reconcilingReason: "SharedSpacePending"},
		},
		"an alias conflict: Stalled is one sentence naming the alias and what to do": {
			errs: []*outcome.Error{conflict},
			want: want{observedGeneration: 3, stalledMessage: "Rename the room or the space, or ask the chat server's admin " +
				"to free #ns.eng.general:example.org: a room this space did not make holds it."},
		},
		"a policy violation: Stalled names the first rule to follow": {
			errs: []*outcome.Error{violation},
			want: want{observedGeneration: 3, stalledMessage: "Change the space to follow its CollaborationPolicy " +
				"(see PolicyCompliant for every rule it breaks): spec.deletionPolicy: Delete is not allowed by policy strict."},
		},
		"a passing fault on a converged space: the old generation stays, Ready is not claimed for the new one": {
			errs: []*outcome.Error{outcome.Classify(collabv1.ChatReadyCondition, "", fmt.Errorf("down: %w", chat.ErrUnavailable))},
			want: want{observedGeneration: 2, reconcilingReason: collabv1.ReasonChatServerUnavailable},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			space := outcomeSpace(false, time.Hour, 0)
			space.Status.ObservedGeneration, space.Generation = 2, 3
			s := &scope.Scope{Space: space, Before: space.DeepCopy(), Now: time.Now(), Grace: 2 * time.Minute, Errs: tc.errs}
			if tc.phase != nil {
				meta.SetStatusCondition(&space.Status.Conditions, *tc.phase)
			}
			summarize(s)
			got := want{observedGeneration: space.Status.ObservedGeneration}
			if c := meta.FindStatusCondition(space.Status.Conditions, collabv1.ReconcilingCondition); c != nil {
				got.reconcilingReason = c.Reason
			}
			if c := meta.FindStatusCondition(space.Status.Conditions, collabv1.StalledCondition); c != nil {
				got.stalledMessage = c.Message
				if strings.Count(c.Message, ". ") > 0 || strings.Contains(c.Message, "; ") {
					t.Errorf("Stalled says %q: want one sentence", c.Message)
				}
			}
			if got != tc.want {
				t.Errorf("after the pass:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
