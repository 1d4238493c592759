package controllers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers/chatbackend/reaper"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/testing/chattest"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// TestTheReaperNeverPurgesARoomWithHistory recreates finding 2 of the second
// review on real Dendrite: a space deleted under Retain leaves its rooms; a
// Moderator redacts the room's canonical alias and everyone leaves. To a reaper
// reading the room afresh (after a restart, or on the other replica) it then
// looks like a create cut off before its alias: the operator's room, its owner
// marker, no canonical alias, no space records it, older than the grace period.
// It must be reported, never purged: people spoke in it.
func TestTheReaperNeverPurgesARoomWithHistory(t *testing.T) {
	ctx := testCtx(t)
	space := chatSpace(newNamespace(t), "kept", collabv1.VisibilityDepartment, collabv1.Room{Name: "general"})
	space.Spec.DeletionPolicy = collabv1.DeletionPolicyRetain
	createSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	general := roomID(t, space, "general")

	carol := person(t, "carol") // a Moderator: power level 50 may redact
	if err := joinFromSpace(ctx, carol, space, general); err != nil {
		t.Fatal(err)
	}
	if err := carol.Send(ctx, general, "minutes of the last meeting"); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Delete(ctx, space); err != nil {
		t.Fatal(err)
	}
	gone(t, space, "the retained space")

	aliasEvent := historyStateEventID(t, ctx, carol, general, "m.room.canonical_alias")
	historyRedact(t, ctx, carol, general, aliasEvent)
	members, err := operator.Members(ctx, general)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range people { // carol leaves; the others decline their invitations
		if m := members[u.ID]; m == "join" || m == "invite" {
			historyLeave(t, ctx, u, general)
		}
	}

	// A reaper that never read the room before, with its grace long past.
	recorder := events.NewFakeRecorder(20)
	r := &reaper.Reaper{Client: k8sClient, Recorder: recorder, Grace: time.Nanosecond, Interval: time.Nanosecond}
	conn, err := connect.ToChat(ctx, k8sClient, connect.NewCredentials(k8sClient, k8sClient, operatorNamespace), &matrix.Connector{}, testBackend)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Reap(ctx, conn, conn.Backend); err != nil {
		t.Fatal(err)
	}

	joined, err := operator.JoinedRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(joined, general) {
		t.Fatalf("the reaper purged room %s, in which carol had spoken; events: %v", general, chattest.Drain(recorder))
	}
	msgs, err := operator.Messages(ctx, general)
	if err != nil || !slices.Contains(msgs, "minutes of the last meeting") {
		t.Errorf("the room's history reads %v (%v), want carol's message kept", msgs, err)
	}
	if evs := chattest.Drain(recorder); !slices.ContainsFunc(evs, func(e string) bool {
		return bytes.Contains([]byte(e), []byte("OrphanKept")) && bytes.Contains([]byte(e), []byte(general))
	}) {
		t.Errorf("no OrphanKept event names room %s: %v", general, evs)
	}

	// collabctl orphans lists the room as kept, for the space it was made for.
	live, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	listed, err := reaper.ListOrphans(ctx, live, testBackend, reaper.OrphanOptions{Chat: &matrix.Connector{},
		CredentialsNamespace: operatorNamespace, Grace: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(listed, func(v reaper.OrphanVerdict) bool { return v.RoomID == general })
	if i < 0 || listed[i].Action != "Keep" || listed[i].Owner != client.ObjectKeyFromObject(space).String() {
		t.Errorf("collabctl orphans lists %+v, want room %s kept for %s", listed, general, client.ObjectKeyFromObject(space))
	}
}

// historyStateEventID returns the id of a room's state event of a type (state key "").
func historyStateEventID(t *testing.T, ctx context.Context, u *matrixuser.User, roomID, eventType string) string {
	t.Helper()
	var state []struct {
		Type     string `json:"type"`
		StateKey string `json:"state_key"`
		EventID  string `json:"event_id"`
	}
	historyCall(t, ctx, u, http.MethodGet, "/rooms/"+url.PathEscape(roomID)+"/state", nil, &state)
	for _, ev := range state {
		if ev.Type == eventType && ev.StateKey == "" {
			return ev.EventID
		}
	}
	t.Fatalf("room %s has no %s event", roomID, eventType)
	return ""
}

// historyRedact redacts an event as u, as a person with the power to would.
func historyRedact(t *testing.T, ctx context.Context, u *matrixuser.User, roomID, eventID string) {
	t.Helper()
	path := fmt.Sprintf("/rooms/%s/redact/%s/r%d", url.PathEscape(roomID), url.PathEscape(eventID), time.Now().UnixNano())
	historyCall(t, ctx, u, http.MethodPut, path, map[string]string{"reason": "tidying up"}, nil)
}

// historyLeave leaves a room, or declines an invitation to it, as u.
func historyLeave(t *testing.T, ctx context.Context, u *matrixuser.User, roomID string) {
	t.Helper()
	historyCall(t, ctx, u, http.MethodPost, "/rooms/"+url.PathEscape(roomID)+"/leave", struct{}{}, nil)
}

// historyCall makes one client-server API call as u and fails the test on an error.
func historyCall(t *testing.T, ctx context.Context, u *matrixuser.User, method, path string, body, out any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, homeserver.URL+"/_matrix/client/v3"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+u.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 300 {
		var e bytes.Buffer
		_, _ = e.ReadFrom(resp.Body)
		t.Fatalf("%s %s as %s: %d %s", method, path, u.ID, resp.StatusCode, e.String())
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}
