package nodebb_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
)

// TestObserveGroupPagesMembers: NodeBB pages members by 20 and repeats a user
// at a page boundary; the client reads every page and lists each member once.
func TestObserveGroupPagesMembers(t *testing.T) {
	srv := fake.NewServer(fakeToken)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	var n nodebb.Counter
	c, err := nodebb.New(nodebb.Config{URL: ts.URL, Token: fakeToken, Observer: n.Observe})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.CreateGroup(ctx, forum.GroupSpec{Name: "big"}); err != nil {
		t.Fatal(err)
	}
	var adds []forum.GroupAction
	var want []string
	for i := range 45 {
		name := fmt.Sprintf("user%02d", i)
		srv.AddUser(name)
		adds = append(adds, forum.AddMember{Username: name})
		want = append(want, name)
	}
	if err := c.UpdateGroup(ctx, "big", adds); err != nil {
		t.Fatal(err)
	}
	reads := n.Reads()
	g, err := c.ObserveGroup(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range g.Members {
		if m.Username != "admin" {
			got = append(got, m.Username)
		}
	}
	if !slices.Equal(got, want) || len(g.Members) != 46 {
		t.Errorf("members = %v (%d), want admin and %v", got, len(g.Members), strings.Join(want, ","))
	}
	if d := n.Reads() - reads; d != 4 { // three pages of members, the group page
		t.Errorf("ObserveGroup made %d reads, want 4", d)
	}
}
