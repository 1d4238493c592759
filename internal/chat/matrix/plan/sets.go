package plan

import (
	"maps"
	"slices"
)

// sortedUnique returns s sorted without duplicates, so plans come out in a stable
// order whatever order the spec or the server listed things in.
func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
