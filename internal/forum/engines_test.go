package forum

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// engine is a Connector that serves the backends and deploys the forums of
// one engine name; the rest of Connector is not called here.
type engine struct {
	Connector
	name collabv1.ForumEngine
}

func (e engine) Serves(b *collabv1.ForumBackend) bool {
	return b.Annotations["engine"] == string(e.name)
}
func (e engine) Deploys(n collabv1.ForumEngine) bool { return n == e.name }

func TestEnginesPickByTheBackendsSectionAndTheDeployedEngine(t *testing.T) {
	engines := Engines{engine{name: "nodebb"}, engine{name: "discourse"}}
	backend := func(section string) *collabv1.ForumBackend {
		return &collabv1.ForumBackend{ObjectMeta: metav1.ObjectMeta{Name: "shared", Annotations: map[string]string{"engine": section}}}
	}
	deploying := func(f *collabv1.ForumSpec) *collabv1.CollaborationSpace {
		return &collabv1.CollaborationSpace{Spec: collabv1.CollaborationSpaceSpec{Forum: f}}
	}
	tests := map[string]struct {
		pick func() (Connector, error)
		want collabv1.ForumEngine // "" when no engine fits
	}{
		"a backend goes to the engine of its section": {func() (Connector, error) { return engines.ForBackend(backend("discourse")) }, "discourse"},
		"a backend no engine serves":                  {func() (Connector, error) { return engines.ForBackend(backend("")) }, ""},
		"a deployed forum runs the engine it names": {func() (Connector, error) {
			return engines.ForDeploy(deploying(&collabv1.ForumSpec{Deploy: &collabv1.ForumDeploy{Engine: "discourse"}}))
		}, "discourse"},
		"a deployed forum that names none runs the first": {func() (Connector, error) {
			return engines.ForDeploy(deploying(&collabv1.ForumSpec{Deploy: &collabv1.ForumDeploy{}}))
		}, "nodebb"},
		"a space without a forum names the first's objects": {func() (Connector, error) { return engines.ForDeploy(deploying(nil)) }, "nodebb"},
		"a forum the spec no longer lists is its recorded engine's": {func() (Connector, error) {
			removed := deploying(nil)
			removed.Status.Forum = &collabv1.ForumStatus{Engine: "discourse"}
			return engines.ForDeploy(removed)
		}, "discourse"},
		"an engine this operator cannot deploy": {func() (Connector, error) {
			return engines.ForDeploy(deploying(&collabv1.ForumSpec{Deploy: &collabv1.ForumDeploy{Engine: "phpbb"}}))
		}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := tc.pick()
			switch {
			case tc.want == "" && err == nil:
				t.Fatalf("picked %v, want an error", c.(engine).name)
			case tc.want != "" && err != nil:
				t.Fatalf("error %v, want %s", err, tc.want)
			case tc.want != "" && c.(engine).name != tc.want:
				t.Errorf("picked %s, want %s", c.(engine).name, tc.want)
			}
		})
	}
}
