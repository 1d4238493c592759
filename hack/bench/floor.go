package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/chat/matrix/plan"
)

// The floor is the least a client can do to make the same rooms: for each space one
// createRoom for the space, one createRoom per room carrying everything the room
// needs (alias, name, topic, join rule, power levels, invite, parent link), and one
// m.space.child state event per room on the space. No reads, no retries, one
// keep-alive HTTP client. It deliberately does not use the project's Matrix client.
//
// With full state (the default) each room gets the same state events the operator
// gives it, its bookkeeping included (history visibility, guest access, the owner
// marker that lets a crashed pass adopt the room), so the ratio measures the
// operator's requests and scheduling, not a difference in what is stored. Minimal
// state leaves the bookkeeping out, to show what those events cost.

// floorResult is what the floor run measured.
type floorResult struct {
	Duration time.Duration
	Ops      []benchkit.OpStat
}

// floorClient speaks just enough of the client-server API.
type floorClient struct {
	// fullState adds the operator's bookkeeping state events to every room.
	fullState  bool
	base       string
	serverName string
	token      string
	operator   string
	http       *http.Client
	stats      benchkit.OpStats
}

func newFloorClient(base, serverName, operator, token string, conns int, fullState bool) *floorClient {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 2 * conns
	t.MaxIdleConnsPerHost = 2 * conns
	return &floorClient{
		fullState:  fullState,
		base:       strings.TrimRight(base, "/"),
		serverName: serverName,
		token:      token,
		operator:   operator,
		http:       &http.Client{Transport: t, Timeout: 2 * time.Minute},
	}
}

// runFloor makes every space with workers goroutines, each taking whole spaces, as
// the operator's workers do.
func runFloor(ctx context.Context, c *floorClient, w benchkit.Workload, workers int) (floorResult, error) {
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if err := c.makeSpace(ctx, w, i); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		})
	}
feed:
	for i := range w.Spaces {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	d := time.Since(start)
	select {
	case err := <-errs:
		return floorResult{}, err
	default:
	}
	return floorResult{Duration: d, Ops: c.stats.Snapshot()}, nil
}

// makeSpace creates one department: its space, its rooms inside it, then the links
// from the space to its rooms.
func (c *floorClient) makeSpace(ctx context.Context, w benchkit.Workload, i int) error {
	owner := w.OwnerID(i, c.serverName)
	spaceID, err := c.createRoom(ctx, map[string]any{
		"preset":           "private_chat",
		"visibility":       "private",
		"room_version":     "10",
		"room_alias_name":  plan.SpaceAlias(w.Namespace(i), w.SpaceName(i)),
		"name":             w.Department(i),
		"topic":            w.Description(i),
		"invite":           []string{owner},
		"creation_content": map[string]any{"type": "m.space"},
		"initial_state": c.state(w, i,
			map[string]any{"type": "m.room.join_rules", "state_key": "", "content": map[string]any{"join_rule": "invite"}},
		),
		"power_level_content_override": floorPowerLevels(c.operator, owner, 90),
	})
	if err != nil {
		return err
	}
	via := []string{c.serverName}
	rooms := make([]string, 0, w.Rooms)
	for j := range w.Rooms {
		id, err := c.createRoom(ctx, map[string]any{
			"preset":          "private_chat",
			"visibility":      "private",
			"room_version":    "10",
			"room_alias_name": plan.RoomAlias(w.Namespace(i), w.SpaceName(i), w.RoomName(j)),
			"name":            w.RoomName(j),
			"topic":           w.RoomTopic(i, j),
			"invite":          []string{owner},
			"initial_state": c.state(w, i,
				map[string]any{"type": "m.room.join_rules", "state_key": "", "content": map[string]any{
					"join_rule": "restricted",
					"allow":     []map[string]string{{"type": "m.room_membership", "room_id": spaceID}},
				}},
				map[string]any{"type": "m.space.parent", "state_key": spaceID, "content": map[string]any{"via": via, "canonical": true}},
			),
			"power_level_content_override": floorPowerLevels(c.operator, owner, 0),
		})
		if err != nil {
			return err
		}
		rooms = append(rooms, id)
	}
	for _, id := range rooms {
		path := "/_matrix/client/v3/rooms/" + url.PathEscape(spaceID) + "/state/m.space.child/" + url.PathEscape(id)
		if err := c.do(ctx, http.MethodPut, "putState", path, map[string]any{"via": via}, nil); err != nil {
			return err
		}
	}
	return nil
}

// state is a room's initial state: the given events, plus with full state the
// operator's bookkeeping.
func (c *floorClient) state(w benchkit.Workload, i int, events ...map[string]any) []map[string]any {
	if !c.fullState {
		return events
	}
	return append(events,
		map[string]any{"type": "m.room.history_visibility", "state_key": "", "content": map[string]any{"history_visibility": "shared"}},
		map[string]any{"type": "m.room.guest_access", "state_key": "", "content": map[string]any{"guest_access": "forbidden"}},
		map[string]any{"type": "io.opencommons.collab.owner", "state_key": "", "content": map[string]any{"owner": w.Namespace(i) + "/" + w.SpaceName(i)}},
	)
}

// floorPowerLevels are the levels the role model asks for (DESIGN.md): the operator
// at 100, the owner at 90, posting at the given level, moderation to moderators,
// the room's structure to the operator alone.
func floorPowerLevels(operator, owner string, posting int) map[string]any {
	return map[string]any{
		"users":          map[string]int{operator: 100, owner: 90},
		"users_default":  0,
		"events_default": posting,
		"state_default":  50,
		"invite":         50, "kick": 50, "ban": 50, "redact": 50,
		"events": map[string]int{
			"m.room.name": 50, "m.room.topic": 50, "m.room.avatar": 50, "m.room.canonical_alias": 100,
			"m.room.guest_access": 100, "m.room.pinned_events": 50, "m.room.power_levels": 100, "m.room.join_rules": 100,
			"m.room.history_visibility": 100, "m.room.encryption": 100, "m.room.server_acl": 100,
			"m.room.tombstone": 100, "m.space.child": 100, "m.space.parent": 100, "io.opencommons.collab.owner": 100,
		},
	}
}

func (c *floorClient) createRoom(ctx context.Context, body map[string]any) (string, error) {
	var out struct {
		RoomID string `json:"room_id"`
	}
	if err := c.do(ctx, http.MethodPost, "createRoom", "/_matrix/client/v3/createRoom", body, &out); err != nil {
		return "", fmt.Errorf("createRoom %s: %w", body["room_alias_name"], err)
	}
	return out.RoomID, nil
}

func (c *floorClient) do(ctx context.Context, method, op, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.stats.Observe(method, op, 0, time.Since(start))
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	c.stats.Observe(method, op, resp.StatusCode, time.Since(start))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}
