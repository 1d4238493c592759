package managercfg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	labelselection "k8s.io/apimachinery/pkg/selection"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/spaceindex"
)

// Sharding spreads the spaces of a large cluster over several managers, as Flux
// shards its controllers: each manager runs with --watch-label-selector and
// caches and reconciles only the CollaborationSpaces whose labels match it. The
// documented layout labels spaces with collabv1.ShardLabel: each shard's manager selects
// collabv1.ShardLabel=<shard>, and the main manager the spaces without the label
// (!collabv1.ShardLabel). Each manager holds a lease of its own (ShardLeaderElectionID).
//
// The backends are cluster-scoped and shared by every shard, so exactly one
// manager (--backend-controllers, the main one) does what concerns a backend as a
// whole: its status, the ChatBackend's directory of Open spaces, the reaper of
// rooms interrupted creates left behind, the backend protection finalizer, the
// PeopleDirectories' status. What it decides from the set of all spaces it reads
// from the API server across every shard (AllShards), never from its own shard's
// cache: a reaper that knew only its own shard's spaces would take every other
// shard's rooms for rooms no space records. The other managers run the backends'
// per-manager parts only: the /sync stream that wakes their own spaces
// (StreamsOnly) and the people directories' resolution their spaces read
// (ResolveOnly), writing no backend status.

// ShardCacheOptions returns opts whose cache holds, and whose controllers so
// reconcile, only the CollaborationSpaces whose labels match sel; opts as they
// are when sel selects everything. Apply it after ManagerOptions, which sets the
// cache's ByObject.
func ShardCacheOptions(opts ctrl.Options, sel labels.Selector) ctrl.Options {
	if !Sharded(sel) {
		return opts
	}
	byObject := make(map[client.Object]cache.ByObject, len(opts.Cache.ByObject)+1)
	for obj, by := range opts.Cache.ByObject {
		byObject[obj] = by
	}
	byObject[&collabv1.CollaborationSpace{}] = cache.ByObject{Label: sel}
	if ownedFollowShard(sel) {
		// The objects a space owns carry its collabv1.ShardLabel (ownedLabels), so a
		// shard caches only its own spaces' Roles, RoleBindings and workloads,
		// and its memory follows its share of the spaces.
		for obj, by := range byObject {
			if _, isSpace := obj.(*collabv1.CollaborationSpace); !isSpace && by.Label != nil {
				reqs, _ := sel.Requirements()
				byObject[obj] = cache.ByObject{Label: by.Label.Add(reqs...)}
			}
		}
	}
	opts.Cache.ByObject = byObject
	return opts
}

// ownedFollowShard: a selector on collabv1.ShardLabel alone also selects the objects the
// selected spaces own, which carry the label too. Any other selector names
// labels owned objects do not carry, so every shard caches every owned object.
func ownedFollowShard(sel labels.Selector) bool {
	reqs, selectable := sel.Requirements()
	if !selectable || len(reqs) == 0 {
		return false
	}
	for _, r := range reqs {
		if r.Key() != collabv1.ShardLabel {
			return false
		}
	}
	return true
}

// Sharded reports whether a manager with the selector sees only some spaces.
func Sharded(sel labels.Selector) bool { return sel != nil && !sel.Empty() }

// ShardLeaderElectionID is the lease name of the manager with the selector: id
// itself for a manager of every space, else id with a short hash of the
// selector's canonical form appended, so every shard holds a lease of its own
// and two spellings of one selector share one.
func ShardLeaderElectionID(id string, sel labels.Selector) string {
	if !Sharded(sel) {
		return id
	}
	sum := sha256.Sum256([]byte(sel.String()))
	return id + "-" + hex.EncodeToString(sum[:])[:10]
}

// ParseShardSelector parses --watch-label-selector; "" selects every space. A
// selector that cannot be parsed is refused with what is wrong with it.
func ParseShardSelector(s string) (labels.Selector, error) {
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("--watch-label-selector %q is not a label selector: %w", s, err)
	}
	return sel, nil
}

// AllShards returns c, except that it lists CollaborationSpaces from the API
// server through live, across every shard, when the manager is sharded: what the
// backend controllers decide from the set of all spaces (the reaper's rooms no
// space records, the directory, the backend protection) must never be decided
// from one shard's cache. A field selector on one of the spaces' indexes is
// applied to what the API server returned.
func AllShards(c client.Client, live client.Reader, sel labels.Selector) client.Client {
	if !Sharded(sel) || live == nil {
		return c
	}
	return allShardsClient{Client: c, live: live}
}

type allShardsClient struct {
	client.Client
	live client.Reader
}

// List implements client.Reader.
func (c allShardsClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	spaces, ok := list.(*collabv1.CollaborationSpaceList)
	if !ok {
		return c.Client.List(ctx, list, opts...)
	}
	lo := (&client.ListOptions{}).ApplyOptions(opts)
	byField := lo.FieldSelector
	lo.FieldSelector = nil
	if err := c.live.List(ctx, spaces, lo); err != nil {
		return err
	}
	if byField == nil || byField.Empty() {
		return nil
	}
	kept := spaces.Items[:0]
	for i := range spaces.Items {
		match, err := matchesIndexes(&spaces.Items[i], byField)
		if err != nil {
			return err
		}
		if match {
			kept = append(kept, spaces.Items[i])
		}
	}
	spaces.Items = kept
	return nil
}

// matchesIndexes reports whether a space's index values meet every requirement
// of the field selector, as the cache's index would.
func matchesIndexes(space *collabv1.CollaborationSpace, sel fields.Selector) (bool, error) {
	for _, req := range sel.Requirements() {
		index, ok := spaceindex.Funcs[req.Field]
		if !ok || (req.Operator != labelselection.Equals && req.Operator != labelselection.DoubleEquals) {
			return false, fmt.Errorf("cannot list spaces across shards by %s%s%s", req.Field, req.Operator, req.Value)
		}
		if !slices.Contains(index(space), req.Value) {
			return false, nil
		}
	}
	return true, nil
}
