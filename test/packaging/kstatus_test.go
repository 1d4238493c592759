package packaging

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// outcome is how a reconcile pass ended, as controllers/status.go's summarize sees it.
type outcome int

const (
	passSucceeded outcome = iota // no error, every phase condition True
	passRetrying                 // an error retrying may fix
	passStalled                  // a reconcile.TerminalError
)

// summarized sets Ready, Reconciling, Stalled and observedGeneration the way
// summarize in controllers/status.go does after a pass that left the phase
// conditions phases and ended with out. (summarize is unexported; this mirrors it
// step by step, and the cases below are the states it can produce.)
func summarized(space *collabv1.CollaborationSpace, out outcome, phases ...metav1.Condition) *collabv1.CollaborationSpace {
	set := func(t string, s metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&space.Status.Conditions, metav1.Condition{
			Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: space.Generation,
		})
	}
	var notReady []metav1.Condition
	for _, c := range phases {
		set(c.Type, c.Status, c.Reason, c.Message)
		if c.Status != metav1.ConditionTrue {
			notReady = append(notReady, c)
		}
	}
	first := metav1.Condition{Reason: "Progressing", Message: "Reconciliation is in progress"}
	if len(notReady) > 0 {
		first = notReady[0]
	}
	switch out {
	case passSucceeded:
		set(collabv1.ReadyCondition, metav1.ConditionTrue, "Succeeded", "Space is ready: 3 members bound, 2 rooms")
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ReconcilingCondition)
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.StalledCondition)
		space.Status.ObservedGeneration = space.Generation
	case passStalled:
		set(collabv1.ReadyCondition, metav1.ConditionFalse, first.Reason, first.Message)
		set(collabv1.StalledCondition, metav1.ConditionTrue, first.Reason, first.Message)
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.ReconcilingCondition)
		space.Status.ObservedGeneration = space.Generation
	case passRetrying:
		set(collabv1.ReadyCondition, metav1.ConditionFalse, first.Reason, first.Message)
		set(collabv1.ReconcilingCondition, metav1.ConditionTrue, first.Reason, first.Message)
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.StalledCondition)
		space.Status.ObservedGeneration = space.Generation
	}
	return space
}

func newSpace(generation int64) *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{
		TypeMeta: metav1.TypeMeta{APIVersion: collabv1.GroupVersion.String(), Kind: "CollaborationSpace"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "engineering", Namespace: "dept-engineering", Generation: generation,
			CreationTimestamp: metav1.Unix(1_700_000_000, 0),
		},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: "Engineering",
			Visibility: collabv1.VisibilityOpen,
			Members:    []collabv1.Member{{Kind: collabv1.SubjectGroup, Name: "eng-leads", Role: collabv1.RoleOwner}},
		},
	}
}

// outdatedBy is space after a department lead merged a change to its spec.
func outdatedBy(space *collabv1.CollaborationSpace) *collabv1.CollaborationSpace {
	space.Generation++
	return space
}

func cond(t string, s metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg}
}

var (
	permissionsBound = cond(collabv1.PermissionsReadyCondition, metav1.ConditionTrue, "Bound", "3 roles bound to 3 members")
	chatReady        = cond(collabv1.ChatReadyCondition, metav1.ConditionTrue, "Synced", "2 rooms match the spec")
	chatDown         = cond(collabv1.ChatReadyCondition, metav1.ConditionFalse, "ChatServerUnavailable",
		"The chat server cannot be reached; retrying with backoff: connection refused")
	sharedPending = cond(collabv1.ChatReadyCondition, metav1.ConditionFalse, "SharedSpacePending",
		"Waiting for space dept-marketing/marketing, which room platform-sync is shared with, to be created")
	aliasConflict = cond(collabv1.ChatReadyCondition, metav1.ConditionFalse, "AliasConflict",
		"#engineering-general:example.org: alias is held by a room this space does not own; rename the space or the room")
)

// TestKstatusReadsSpaces proves that the conditions follow kstatus: what Flux's
// health checks, kubectl wait and cli-utils compute from a CollaborationSpace in
// each state the operator leaves it in, as the API server serves it.
func TestKstatusReadsSpaces(t *testing.T) {
	crd := servedSchema(t)
	deleting := summarized(newSpace(2), passSucceeded, permissionsBound, chatReady)
	deleting.DeletionTimestamp = &metav1.Time{Time: deleting.CreationTimestamp.Add(3600e9)}
	deleting.Finalizers = []string{"collab.opencommons.io/finalizer"}
	// Ready at generation 2, then a department lead merged a change: generation 3.
	outdated := summarized(newSpace(2), passSucceeded, permissionsBound, chatReady)
	outdated.Generation = 3

	cases := map[string]struct {
		space       *collabv1.CollaborationSpace
		want        status.Status
		wantMessage string
		// hint says what makes the API serve the state kstatus needs.
		hint string
	}{
		"Ready at the current generation is Current": {
			space: summarized(newSpace(3), passSucceeded, permissionsBound, chatReady),
			want:  status.CurrentStatus, wantMessage: "Resource is Ready",
		},
		"Reconciling on the first pass is InProgress, with Reconciling's message": {
			space: summarized(newSpace(1), passRetrying, permissionsBound, chatDown),
			want:  status.InProgressStatus, wantMessage: chatDown.Message,
		},
		"Waiting for a shared space after a spec change says so": {
			space: summarized(outdatedBy(summarized(newSpace(2), passSucceeded, permissionsBound, chatReady)),
				passRetrying, permissionsBound, sharedPending),
			want: status.InProgressStatus, wantMessage: sharedPending.Message,
		},
		"Reconciling after a drift poll at a generation once Ready is InProgress": {
			space: summarized(summarized(newSpace(3), passSucceeded, permissionsBound, chatReady), passRetrying, permissionsBound, chatDown),
			want:  status.InProgressStatus, wantMessage: chatDown.Message,
		},
		"Stalled is Failed, with the Stalled message": {
			space: summarized(newSpace(2), passStalled, permissionsBound, aliasConflict),
			want:  status.FailedStatus, wantMessage: aliasConflict.Message,
		},
		"Ready at an older generation than the spec's is InProgress": {
			space: outdated,
			want:  status.InProgressStatus, wantMessage: "CollaborationSpace generation is 3, but latest observed generation is 2",
		},
		"No status yet is InProgress": {
			space: newSpace(1),
			want:  status.InProgressStatus, wantMessage: "CollaborationSpace generation is 1, but latest observed generation is 0",
			// Before the operator's first pass (or with the operator not installed yet)
			// kstatus finds no observedGeneration and no conditions, and calls the
			// object Current: Flux would report a space healthy that nothing has made.
			hint: "the CRD must default status to {} and status.observedGeneration to 0 " +
				"(+kubebuilder:default={} on CollaborationSpace.Status, +kubebuilder:default=0 on " +
				"CollaborationSpaceStatus.ObservedGeneration), so a new space is served at observedGeneration 0",
		},
		"Being deleted is Terminating": {
			space: deleting,
			want:  status.TerminatingStatus,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u := asServed(t, crd, tc.space)
			res, err := status.Compute(u)
			if err != nil {
				t.Fatalf("status.Compute: %v", err)
			}
			if res.Status != tc.want {
				t.Errorf("kstatus = %s (%q), want %s; status:\n%s", res.Status, res.Message, tc.want, statusYAML(u))
				if tc.hint != "" {
					t.Errorf("For that, %s", tc.hint)
				}
			}
			if tc.wantMessage != "" && res.Message != tc.wantMessage {
				t.Errorf("kstatus message = %q, want %q", res.Message, tc.wantMessage)
			}
		})
	}
}

// servedSchema is the CollaborationSpace CRD's structural schema, which the API server
// defaults objects with.
func servedSchema(t *testing.T) *structuralschema.Structural {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "config/crd/bases/collab.opencommons.io_collaborationspaces.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &crd); err != nil {
		t.Fatal(err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != collabv1.GroupVersion.Version {
			continue
		}
		var internal apiextensions.JSONSchemaProps
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
			t.Fatal(err)
		}
		s, err := structuralschema.NewStructural(&internal)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Fatalf("the CRD serves no version %s", collabv1.GroupVersion.Version)
	return nil
}

// asServed returns a space as a client reads it from the API server: unstructured,
// with the CRD's defaults applied (the API server applies them on every read).
func asServed(t *testing.T, s *structuralschema.Structural, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	// A status the operator has not written yet is absent, not empty.
	if st, ok := m["status"].(map[string]any); ok && len(st) == 0 {
		delete(m, "status")
	}
	structuraldefaulting.Default(m, s)
	return &unstructured.Unstructured{Object: m}
}

func statusYAML(u *unstructured.Unstructured) string {
	b, err := yaml.Marshal(u.Object["status"])
	if err != nil {
		return err.Error()
	}
	return string(b)
}
