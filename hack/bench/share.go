package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// sharePoll is how often a share probe samples both spaces and tries the join.
const sharePoll = 50 * time.Millisecond

// measureShare times, probes times, how long after a space turns Ready its member
// can join a room another space shares with it (issue 9: a space waiting for a
// shared space must be woken, not polled). Each probe makes a space "a" whose room
// "joint" is shared with a space "b" that does not exist yet, waits for "a" to
// record the room (it stays SharedSpacePending), then makes "b", led by a person of
// the bench, who accepts the invitation to b's space and then tries to join the
// joint room every sharePoll. The latency is from the first sample in which "b" is
// Ready to the first join that succeeds (0 when the join came first); "a" must be
// Ready by then too.
func measureShare(ctx context.Context, c client.Client, hs *dendrite.Server, probes int) ([]time.Duration, error) {
	// The "a" spaces' Owner: a person who only ever gets invited.
	if _, _, err := hs.RegisterUser(ctx, "share-anchor", "password-share-anchor", false); err != nil {
		return nil, err
	}
	id, token, err := hs.RegisterUser(ctx, "sharer", "password-sharer", false)
	if err != nil {
		return nil, err
	}
	sharer := matrixuser.New(hs.URL, id, token)
	var out []time.Duration
	for i := range probes {
		d, err := shareProbe(ctx, c, sharer, i)
		if err != nil {
			return out, fmt.Errorf("share probe %d: %w", i, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func shareProbe(ctx context.Context, c client.Client, sharer *matrixuser.User, i int) (time.Duration, error) {
	a := shareSpace(fmt.Sprintf("bench-share-%02d-a", i), "share-anchor")
	b := shareSpace(fmt.Sprintf("bench-share-%02d-b", i), "sharer")
	a.Spec.Chat.Rooms[0].SharedWith = []collabv1.SpaceReference{{Namespace: b.Namespace, Name: b.Name}}
	for _, s := range []*collabv1.CollaborationSpace{a, b} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.Namespace}}); err != nil {
			return 0, err
		}
	}
	if err := c.Create(ctx, a); err != nil {
		return 0, err
	}
	joint, err := waitPending(ctx, c, a)
	if err != nil {
		return 0, err
	}
	if err := c.Create(ctx, b); err != nil {
		return 0, err
	}
	bReady, joined, err := timeJoin(ctx, c, sharer, b, joint)
	if err != nil {
		return 0, err
	}
	if !ready(ctx, c, a) {
		return 0, fmt.Errorf("%s is not Ready once its shared room is joinable", a.Namespace)
	}
	return max(0, joined.Sub(bReady)), nil
}

// timeJoin samples every sharePoll, for up to a minute, when space b turns Ready
// and when its member can join the room joint (after accepting the invitation to
// b's own space, which the restricted join rule asks for).
func timeJoin(ctx context.Context, c client.Client, member *matrixuser.User, b *collabv1.CollaborationSpace,
	joint string) (bReady, joined time.Time, err error) {
	inSpace := false
	deadline := time.Now().Add(time.Minute)
	for joined.IsZero() || bReady.IsZero() {
		if time.Now().After(deadline) {
			return bReady, joined, fmt.Errorf("within a minute: %s Ready %v, joined %v", b.Namespace, !bReady.IsZero(), !joined.IsZero())
		}
		if now := time.Now(); bReady.IsZero() && ready(ctx, c, b) {
			bReady = now
		}
		if !inSpace && b.Status.Chat != nil && b.Status.Chat.SpaceID != "" {
			inSpace = member.Join(ctx, b.Status.Chat.SpaceID) == nil
		}
		if inSpace && joined.IsZero() && member.Join(ctx, joint) == nil {
			joined = time.Now()
		}
		if err := benchkit.Sleep(ctx, sharePoll); err != nil {
			return bReady, joined, err
		}
	}
	return bReady, joined, nil
}

// ready reads the space into s and reports whether it is Ready at its generation.
func ready(ctx context.Context, c client.Client, s *collabv1.CollaborationSpace) bool {
	return c.Get(ctx, client.ObjectKeyFromObject(s), s) == nil && benchkit.IsReady(s)
}

// shareSpace is a Department space "dept" in namespace ns, led by owner, with one
// room.
func shareSpace(ns, owner string) *collabv1.CollaborationSpace {
	return &collabv1.CollaborationSpace{
		ObjectMeta: metav1.ObjectMeta{Name: "dept", Namespace: ns},
		Spec: collabv1.CollaborationSpaceSpec{
			Department: "Share " + ns, Visibility: collabv1.VisibilityDepartment,
			Members: []collabv1.Member{{Kind: collabv1.SubjectUser, Name: owner, Role: collabv1.RoleOwner}},
			Chat: &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: benchBackend},
				Rooms: []collabv1.Room{{Name: "joint", Topic: "shared"}}},
		},
	}
}

// waitPending waits until space has recorded its one room while it waits for the
// space the room is shared with, and returns the room's id.
func waitPending(ctx context.Context, c client.Client, space *collabv1.CollaborationSpace) (string, error) {
	for ctx.Err() == nil {
		if err := c.Get(ctx, client.ObjectKeyFromObject(space), space); err == nil && space.Status.Chat != nil &&
			len(space.Status.Chat.Rooms) == 1 {
			if cond := meta.FindStatusCondition(space.Status.Conditions, collabv1.ChatReadyCondition); cond != nil &&
				cond.Reason == "SharedSpacePending" {
				return space.Status.Chat.Rooms[0].RoomID, nil
			}
		}
		_ = benchkit.Sleep(ctx, 100*time.Millisecond)
	}
	return "", ctx.Err()
}
