package directory

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/harness"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// TestNameForCopiesNothing: naming a space's directory from the manager's
// cache, as every pass of a space with groups does and a directory's poll
// does for each space, does not copy the PeopleDirectory, whose status lists
// every group in use (500 here): the copies were 86 KiB a call, 860 MiB of
// garbage for 10,000 spaces.
func TestNameForCopiesNothing(t *testing.T) {
	apiServer := harness.New(t, harness.Options{})
	cfg, c := apiServer.Config, apiServer.Client
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dir := &collabv1.PeopleDirectory{ObjectMeta: metav1.ObjectMeta{Name: "staff"},
		Spec: collabv1.PeopleDirectorySpec{Default: true, Static: &collabv1.StaticDirectory{}}}
	if err := c.Create(ctx, dir); err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		dir.Status.Groups = append(dir.Status.Groups, collabv1.DirectoryGroupStatus{
			Name: fmt.Sprintf("cn=group-%03d,ou=groups,dc=example,dc=org", i), Found: true, People: 20,
			Digest: fmt.Sprintf("sha256:%064d", i)})
	}
	if err := c.Status().Update(ctx, dir); err != nil {
		t.Fatal(err)
	}
	cached, err := cache.New(cfg, cache.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = cached.Start(ctx) }()
	if !cached.WaitForCacheSync(ctx) {
		t.Fatal("the cache never synced")
	}
	var seen collabv1.PeopleDirectory
	for len(seen.Status.Groups) < 500 {
		if err := cached.Get(ctx, client.ObjectKey{Name: "staff"}, &seen); err != nil {
			t.Fatal(err)
		}
	}

	space := &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Namespace: "dept", Name: "team"},
		Spec: collabv1.CollaborationSpaceSpec{Members: []collabv1.Member{{Kind: collabv1.SubjectGroup, Name: "cn=group-001,ou=groups,dc=example,dc=org"}}}}
	const calls = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range calls {
		if name, err := NameFor(ctx, cached, space); err != nil || name != "staff" {
			t.Fatalf("NameFor = %q, %v; want the default directory, staff", name, err)
		}
	}
	runtime.ReadMemStats(&after)
	if perCall := (after.TotalAlloc - before.TotalAlloc) / calls; perCall > 4<<10 {
		t.Errorf("NameFor allocates %d bytes a call, want under 4 KiB: it copies the directory", perCall)
	}
}
