package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/opencommons/collab-operator/internal/testing/slapd"
)

// TestResolveIsBounded: whoever can write groups in the directory cannot make
// the operator read without end. A chain of 30 nested groups, read with a bound
// of 10 nested reads, fails with ErrTooLarge (which removes nobody) and no more
// than the bound's queries; within the bound it resolves. A paged search past its
// entry bound fails the same way, between pages.
func TestResolveIsBounded(t *testing.T) {
	const depth = 30
	var seed strings.Builder
	seed.WriteString(person("zoe"))
	for i := range depth {
		next := uidDN("zoe")
		if i < depth-1 {
			next = cnDN(fmt.Sprintf("chain-%02d", i+1))
		}
		seed.WriteString(group(fmt.Sprintf("chain-%02d", i), next))
	}
	chain, err := slapd.Start(context.Background(), slapd.Options{Seed: seed.String()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = chain.Stop() }()

	t.Run("nested groups past the bound", func(t *testing.T) {
		src := source(t, chain)
		src.limits.nestedGroups = 10
		_, err := src.Resolve(context.Background(), []string{"chain-00"})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Resolve of a %d-deep chain with a bound of 10 = %v, want ErrTooLarge", depth, err)
		}
		if q := src.Queries(); q > 10+5 {
			t.Errorf("the bounded Resolve made %d queries, want about 10", q)
		}
	})
	t.Run("nested groups within the bound", func(t *testing.T) {
		got, err := source(t, chain).Resolve(context.Background(), []string{"chain-00"})
		if err != nil || len(got["chain-00"].People) != 1 {
			t.Fatalf("Resolve = %v, %v; want zoe at the end of the chain", got, err)
		}
	})
	t.Run("a paged search past its bound", func(t *testing.T) {
		src := source(t, shared, func(c *LDAPConfig) { c.Spec.PageSize = 1 })
		src.limits.entries = 2
		_, err := src.Resolve(context.Background(), []string{"engineering"})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Resolve reading 5 people with a bound of 2 = %v, want ErrTooLarge", err)
		}
	})
	t.Run("a cancelled context stops paging", func(t *testing.T) {
		src := source(t, shared, func(c *LDAPConfig) { c.Spec.PageSize = 1 })
		if _, err := src.Resolve(context.Background(), []string{"leads"}); err != nil {
			t.Fatal(err) // connected and warmed up
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		before := src.Queries()
		if _, err := src.Resolve(ctx, []string{"leads"}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Resolve with a cancelled context = %v, want context.Canceled", err)
		}
		if q := src.Queries() - before; q != 0 {
			t.Errorf("Resolve with a cancelled context made %d queries, want none", q)
		}
	})
}
