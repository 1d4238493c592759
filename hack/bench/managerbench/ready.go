package managerbench

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/hack/bench/benchkit"
)

// waitSpacesReady waits until n spaces are Ready. It lists the spaces once and
// then watches them, as a dashboard would: a list of every space each second
// cost the API server more than the manager's own writes at 10,000 spaces, and
// slowed what the benchmark measures.
func waitSpacesReady(ctx context.Context, c client.WithWatch, n int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ready := map[string]bool{}
	for {
		rv, err := listReady(ctx, c, ready)
		if err != nil {
			return fmt.Errorf("only %d of %d spaces Ready: %w", len(ready), n, err)
		}
		if len(ready) >= n {
			return nil
		}
		done, err := watchReady(ctx, c, rv, ready, n)
		if done || err != nil {
			return err
		}
		// The watch ended (the API server closes them now and then): list again.
	}
}

// listReady records which spaces are Ready and returns the list's resource
// version, to watch from.
func listReady(ctx context.Context, c client.Reader, ready map[string]bool) (string, error) {
	var list collabv1.CollaborationSpaceList
	if err := c.List(ctx, &list); err != nil {
		return "", err
	}
	clear(ready)
	for i := range list.Items {
		if benchkit.IsReady(&list.Items[i]) {
			ready[client.ObjectKeyFromObject(&list.Items[i]).String()] = true
		}
	}
	return list.ResourceVersion, nil
}

// watchReady follows the spaces from rv until n are Ready (done) or the watch
// ends.
func watchReady(ctx context.Context, c client.WithWatch, rv string, ready map[string]bool, n int) (done bool, err error) {
	w, err := c.Watch(ctx, &collabv1.CollaborationSpaceList{}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
	if err != nil {
		return false, err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("only %d of %d spaces Ready: %w", len(ready), n, ctx.Err())
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				return false, nil
			}
			space, isSpace := ev.Object.(*collabv1.CollaborationSpace)
			if !isSpace {
				continue
			}
			key := client.ObjectKeyFromObject(space).String()
			if ev.Type != watch.Deleted && benchkit.IsReady(space) {
				ready[key] = true
			} else {
				delete(ready, key)
			}
			if len(ready) >= n {
				return true, nil
			}
		}
	}
}
