package spacepass

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// laggingReader answers with the resourceVersions in seen, one per read, then
// with the last one: a cache that catches up with a write after some reads.
type laggingReader struct {
	client.Reader
	seen  []string
	reads int
}

func (l *laggingReader) Get(_ context.Context, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	rv := l.seen[min(l.reads, len(l.seen)-1)]
	l.reads++
	obj.SetResourceVersion(rv)
	return nil
}

// TestAPassWaitsForTheCacheToSeeItsStatus: the next pass of a space reads it
// from the cache, which may not have the status the last pass wrote yet. A pass
// that read the old status takes people who left the groups since for accounts
// the space never listed, and removes them without holding any for approval
// (TestRemovalBudgetHoldsAndApprovalReleases, one run in two). So a pass ends
// only once the cache has caught up with its own write, or after a bound.
func TestAPassWaitsForTheCacheToSeeItsStatus(t *testing.T) {
	tests := map[string]struct {
		seen      []string
		written   string
		wantReads int
		wantErr   bool
	}{
		"the cache already has the write":      {seen: []string{"120"}, written: "120", wantReads: 1},
		"the cache catches up on the 3rd read": {seen: []string{"100", "100", "120"}, written: "120", wantReads: 3},
		"the cache has moved past the write":   {seen: []string{"130"}, written: "120", wantReads: 1},
		"the cache never catches up":           {seen: []string{"100"}, written: "120", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := &laggingReader{seen: tc.seen}
			space := &collabv1.CollaborationSpace{ObjectMeta: metav1.ObjectMeta{Name: "eng", Namespace: "dept",
				ResourceVersion: tc.written}}
			err := waitForCache(context.Background(), r, space, time.Millisecond, 50*time.Millisecond)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if !tc.wantErr && r.reads != tc.wantReads {
				t.Errorf("%d reads, want %d", r.reads, tc.wantReads)
			}
		})
	}
}
