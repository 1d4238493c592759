package managerbench

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/testing/slapd"
)

// scaleGroupSize is how many people each group of -mode scale's directory has.
const scaleGroupSize = 20

// scaleDirectory is -mode scale's directory (-directory-people): a real slapd
// with that many people in groups of scaleGroupSize and a default
// PeopleDirectory over it. Each space names one group as a member, so it
// resolves that many people beside its User members: issue 22's 10,000 spaces
// with a 10,000-person directory.
type scaleDirectory struct {
	ldap   *slapd.Server
	groups int
}

// startScaleDirectory seeds slapd, creates the PeopleDirectory and waits until
// it is Ready.
func startScaleDirectory(ctx context.Context, c client.Client, people int, timeout time.Duration) (*scaleDirectory, error) {
	d := &scaleDirectory{groups: max(1, people/scaleGroupSize)}
	benchkit.Progress("scale: seeding slapd with %d people in %d groups of %d", people, d.groups, scaleGroupSize)
	seed := directorySeed(benchkit.Workload{Spaces: d.groups}, DirectoryOptions{People: people, Groups: d.groups}, scaleGroupSize)
	ldap, err := slapd.Start(ctx, slapd.Options{Seed: seed})
	if err != nil {
		return nil, err
	}
	d.ldap = ldap
	secret, dir := peopleDirectory(ldap, time.Minute)
	for _, obj := range []client.Object{secret, dir} {
		if err := c.Create(ctx, obj); err != nil {
			d.stop()
			return nil, err
		}
	}
	if err := poll(ctx, timeout, func() (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(dir), dir); err != nil {
			return false, err
		}
		// The directory resolves the groups spaces name, as they name them.
		return meta.IsStatusConditionTrue(dir.Status.Conditions, collabv1.ReadyCondition), nil
	}); err != nil {
		d.stop()
		return nil, fmt.Errorf("the directory did not become Ready: %w", err)
	}
	return d, nil
}

// member is the Group member space i names.
func (d *scaleDirectory) member(i int) collabv1.Member {
	return collabv1.Member{Kind: collabv1.SubjectGroup, Name: benchkit.Workload{}.SpaceName(i%d.groups) + "-staff",
		Role: collabv1.RoleMember}
}

func (d *scaleDirectory) stop() { _ = d.ldap.Stop() }
