package spacepass

import (
	"context"
	"fmt"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// How long a pass waits for the cache to see its own status write, and how
// often it looks. The cache usually has it within milliseconds.
const (
	cacheWaitInterval = 20 * time.Millisecond
	cacheWaitTimeout  = 5 * time.Second
)

// waitForCache returns once the cache has obj at the resourceVersion the pass
// wrote, or a later one, the way Cluster API's WaitForCacheToBeUpToDate does
// after its writes. The next pass of the same object reads it from the cache:
// one that read the status before this write would decide on what the previous
// pass saw (who was a member, what was removed this hour) and act on it again.
// The workqueue runs one pass of an object at a time, so waiting here is enough.
func waitForCache(ctx context.Context, cache client.Reader, obj client.Object, interval, timeout time.Duration) error {
	written, err := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
	if err != nil {
		return nil // not a number (not etcd): nothing to compare with
	}
	cached := obj.DeepCopyObject().(client.Object)
	err = wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		if err := cache.Get(ctx, client.ObjectKeyFromObject(obj), cached); err != nil {
			return apierrors.IsNotFound(err), client.IgnoreNotFound(err) // deleted: no next pass to mislead
		}
		seen, err := strconv.ParseUint(cached.GetResourceVersion(), 10, 64)
		return err != nil || seen >= written, nil
	})
	if err != nil {
		return fmt.Errorf("the cache has not seen the status written at resourceVersion %d: %w", written, err)
	}
	return nil
}
