package matrix

import (
	"testing"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

// TestDirectorySpace: anyone on the server joins the organisation's directory
// space, finds an Open department's space in it, and that space's rooms once
// they join it (Dendrite shows a space's hierarchy to its members only, and a
// public child only to members of the parent); when the department is no
// longer listed, the next pass takes it out.
func TestDirectorySpace(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := operatorClient(t, nil)
	dave := hs.users["dave"]
	eng := provision(t, c, space("eng-dir", collabv1.VisibilityOpen,
		[]collabv1.Member{userMember("alice", collabv1.RoleOwner)}, collabv1.Room{Name: "general"}), nil)
	dirSpec := planner.Directory("test-dir", collabv1.DirectorySpace{Name: "Acme", Alias: "acme-dir"}, hs.operator.ID, []string{eng.spaceID})
	dir, err := c.Create(ctx, dirSpec)
	if err != nil {
		t.Fatal(err)
	}
	if err := dave.join(ctx, "#acme-dir:localhost"); err != nil {
		t.Fatalf("dave joins the public directory: %v", err)
	}
	seen, err := dave.hierarchy(ctx, dir.RoomID)
	if err != nil || !seen[eng.spaceID] {
		t.Fatalf("dave browsing the directory sees %v (%v), want the engineering space %s", seen, err, eng.spaceID)
	}
	if err := dave.join(ctx, eng.spaceID); err != nil {
		t.Fatalf("dave joins the open engineering space: %v", err)
	}
	if seen, err = dave.hierarchy(ctx, eng.spaceID); err != nil || !seen[eng.rooms["general"]] {
		t.Errorf("dave browsing engineering sees %v (%v), want its general room", seen, err)
	}

	dirSpec.Children = []string{}
	opts := chat.PlanOptions{OperatorUserID: hs.operator.ID, PruneChildren: true}
	reconcile(t, c, dirSpec, opts)
	if seen, err = dave.hierarchy(ctx, dir.RoomID); err != nil || seen[eng.spaceID] {
		t.Errorf("after pruning, dave still sees the department: %v, %v", seen, err)
	}
}
