package reaper

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/dryrun"
)

// OrphanVerdict is what the reaper does, or would do, with one room the
// operator is in that no space records.
type OrphanVerdict struct {
	RoomID string `json:"roomID"`
	// Alias is the room's canonical alias, Owner the space its owner marker
	// names, when it has them.
	Alias string `json:"alias,omitempty"`
	Owner string `json:"owner,omitempty"`
	// Action is Adopt, Delete, Keep, Report, Hold, Wait, Unknown or Ignore
	// (not an orphan: someone else's room, archived, found by its alias).
	Action string `json:"action"`
	// Verdict says why, in the reaper's words.
	Verdict string `json:"verdict"`
}

// OrphanOptions are the operator's settings a listing must share with it to agree.
type OrphanOptions struct {
	Chat chat.Connector
	// CredentialsNamespace is where the backends' Secrets are (--credentials-namespace).
	CredentialsNamespace string
	// Grace is --orphan-grace; the operator's default when zero.
	Grace time.Duration
}

// ListOrphans runs the reaper over ChatBackend name with a chat client that
// reads the server and records every write instead of making it, so it says
// what the reaper would do on its next run under the backend's spec.reaper,
// and changes nothing. The judging is the reaper's own code. Every error it
// returns names the backend.
func ListOrphans(ctx context.Context, c client.WithWatch, name string, opts OrphanOptions) ([]OrphanVerdict, error) {
	rec := &dryrun.Recorder{}
	r := &Reaper{Client: dryrun.NewKubeClient(c, rec), Recorder: &events.FakeRecorder{},
		Grace: cmp.Or(opts.Grace, defaultOrphanGrace), Interval: time.Nanosecond}
	credentials := connect.NewCredentials(c, r.Client, opts.CredentialsNamespace)
	conn, err := connect.ToChat(ctx, c, credentials, opts.Chat, name)
	if err != nil {
		return nil, err
	}
	conn.Client = dryrun.NewChat(conn.Client, conn.Server.Name, rec)
	r.due(name, time.Now()) // a fresh reaper: due at once
	lister, ok := conn.Client.(chat.RoomLister)
	if !ok {
		return nil, fmt.Errorf("ChatBackend %s: the chat client cannot list the operator's rooms", name)
	}
	joined, err := lister.JoinedRooms(ctx)
	if err != nil {
		return nil, fmt.Errorf("ChatBackend %s: cannot list the operator's rooms: %w", name, err)
	}
	known, err := r.knownRooms(ctx, conn.Backend)
	if err != nil {
		return nil, fmt.Errorf("ChatBackend %s: %w", name, err)
	}
	return r.judgeRooms(ctx, conn, conn.Backend, joined, known), nil
}

// orphanActions map the start of a reaper's verdict to its action.
var orphanActions = []struct{ prefix, action string }{
	{"adopted", "Adopt"},
	{"deleted: ", "Delete"},
	{"kept: ", "Keep"},
	{"reported: ", "Report"},
	{"held: ", "Hold"},
	{"too young", "Wait"},
	{"unknown: ", "Unknown"},
}

// orphanAction is the action a verdict of judgeRoom stands for.
func orphanAction(verdict string) string {
	for _, a := range orphanActions {
		if strings.HasPrefix(verdict, a.prefix) {
			return a.action
		}
	}
	return "Ignore"
}
