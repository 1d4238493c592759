package devcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/engines"
	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/insightsread"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// insightsInterval is make dev's --insights-interval: short, so the
// conversation's figures reach status.insights while make dev reports.
const insightsInterval = 15 * time.Second

// line is one message of make dev's conversation: who says it, in which room
// (space/room), and which earlier line (by key) it answers.
type line struct {
	key, person, room, answers string
}

// conversation is a morning's talk between engineering and marketing: a
// question in each department's room, marketing asking engineering in the
// room engineering shares with it and engineering answering, and the other
// way round in marketing's launch-review.
var conversation = []line{
	{"q-ship", "dave", "engineering/general", ""},
	{"", "bob", "engineering/general", "q-ship"},
	{"", "frank", "engineering/general", "q-ship"},
	{"", "gina", "engineering/general", "q-ship"},
	{"", "hugo", "engineering/general", ""},
	{"", "ines", "engineering/general", ""},
	{"", "jack", "engineering/general", "q-ship"},
	{"", "kate", "engineering/general", ""},
	{"", "alice", "engineering/general", ""},
	{"q-date", "liam", "engineering/platform-sync", ""},
	{"q-scope", "mia", "engineering/platform-sync", ""},
	{"a-date", "gina", "engineering/platform-sync", "q-date"},
	{"", "hugo", "engineering/platform-sync", "q-date"},
	{"", "ines", "engineering/platform-sync", "q-scope"},
	{"", "jack", "engineering/platform-sync", "q-scope"},
	{"", "kate", "engineering/platform-sync", "q-date"},
	{"", "noah", "engineering/platform-sync", "a-date"},
	{"", "olga", "engineering/platform-sync", "a-date"},
	{"", "paul", "engineering/platform-sync", "a-date"},
	{"", "erin", "engineering/platform-sync", "a-date"},
	{"q-review", "carol", "marketing/launch-review", ""},
	{"", "frank", "marketing/launch-review", "q-review"},
	{"", "gina", "marketing/launch-review", "q-review"},
	{"", "hugo", "marketing/launch-review", "q-review"},
	{"", "ines", "marketing/launch-review", "q-review"},
	{"", "jack", "marketing/launch-review", "q-review"},
	{"", "erin", "marketing/general", ""},
	{"", "liam", "marketing/general", ""},
	{"", "mia", "marketing/general", ""},
	{"", "noah", "marketing/general", ""},
	{"", "olga", "marketing/general", ""},
	{"", "paul", "marketing/general", ""},
}

// PlayConversation has the sample organisation talk: each person logs in,
// joins the spaces and rooms they talk in, and says their lines, as people do
// with a chat client. Only who said what when, and what it answers, counts.
func (e *Env) PlayConversation(ctx context.Context) error {
	rooms, err := e.roomIDs(ctx, "engineering", "marketing")
	if err != nil {
		return err
	}
	people := map[string]*matrixuser.User{}
	joined := map[string]bool{}
	said := map[string]string{}
	for _, l := range conversation {
		p := people[l.person]
		if p == nil {
			if p, err = matrixuser.Login(ctx, e.homeserver.URL, l.person, devPassword(l.person)); err != nil {
				return fmt.Errorf("%s cannot log in: %w", l.person, err)
			}
			people[l.person] = p
		}
		room := rooms[l.room]
		// Their spaces first: a Department room admits the members of the
		// spaces it belongs to or is shared with. Engineering is Open.
		spaces := []string{rooms["engineering"].space}
		if inMarketing(l.person) {
			spaces = append(spaces, rooms["marketing"].space)
		}
		for _, id := range append(spaces, room.id) {
			if !joined[l.person+" "+id] {
				if err := p.Join(ctx, id); err != nil {
					return fmt.Errorf("%s cannot join %s: %w", l.person, l.room, err)
				}
				joined[l.person+" "+id] = true
			}
		}
		id, err := p.Say(ctx, room.id, "a line of make dev's conversation", said[l.answers])
		if err != nil {
			return fmt.Errorf("%s cannot talk in %s: %w", l.person, l.room, err)
		}
		if l.key != "" {
			said[l.key] = id
		}
	}
	e.say("%d people said %d things in engineering's and marketing's rooms, across departments", len(people), len(conversation))
	e.talked = time.Now()
	return nil
}

// inMarketing says whether marketing's space invites person: carol, its
// Owner (config/samples/marketing.yaml), and the marketing group.
func inMarketing(person string) bool {
	if person == "carol" {
		return true
	}
	for _, g := range devGroups {
		if g.name == "marketing" {
			return slices.Contains(g.people, person)
		}
	}
	return false
}

// devRoom is a room and the space room it is found under.
type devRoom struct{ space, id string }

// roomIDs are the rooms of the spaces named (each in its own namespace, as
// the samples are) by "space/room", each with its space's room, and the
// spaces' rooms by name.
func (e *Env) roomIDs(ctx context.Context, names ...string) (map[string]devRoom, error) {
	out := map[string]devRoom{}
	for _, name := range names {
		space := &collabv1.CollaborationSpace{}
		if err := e.client.Get(ctx, client.ObjectKey{Namespace: "dept-" + name, Name: name}, space); err != nil {
			return nil, err
		}
		if space.Status.Chat == nil {
			return nil, fmt.Errorf("space %s has no chat yet", name)
		}
		out[name] = devRoom{space: space.Status.Chat.SpaceID}
		for _, r := range space.Status.Chat.Rooms {
			out[name+"/"+r.Name] = devRoom{space: space.Status.Chat.SpaceID, id: r.RoomID}
		}
	}
	return out, nil
}

// reportInsights prints the organisation's openness report (as collabctl
// report does), writes its HTML page, and shows the figures the manager put
// in the spaces' status.
func (e *Env) reportInsights(ctx context.Context) {
	e.say("Does the organisation talk across departments? (collabctl report; last 7 days)")
	now := time.Now()
	in, err := insightsread.Read(ctx, e.client, insights.LastDays(now, 7).From,
		insightsread.Options{Chat: engines.Chat(), CredentialsNamespace: operatorNamespace})
	if err != nil {
		e.say("Cannot read the rooms' history: %v", err)
		return
	}
	for key, why := range in.Unread {
		e.say("%s is not counted: %s", key, why)
	}
	minPeople := max(insights.DefaultMinPeople, in.MinPeople)
	week := []insights.Titled{{Name: "last 7 days",
		Report: insights.Compute(in.Org, in.Messages, insights.LastDays(now, 7), minPeople)}}
	_ = insights.WriteText(e.out, week, in.Incomplete, minPeople)
	page := filepath.Join(e.dir, "openness.html")
	if f, err := os.Create(page); err == nil {
		err = insights.WriteHTML(f, week, minPeople)
		_ = f.Close()
		if err == nil {
			e.say("The report as a page to share: %s", page)
		}
	}
	e.waitForInsights(ctx)
	e.say("status.insights, as the manager computes them every %s", insightsInterval)
	_ = e.Kubectl(ctx, e.out, "get", "collaborationspaces", "-A", "-o",
		"custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,MESSAGES:.status.insights.week.messages,"+
			"PEOPLE:.status.insights.week.activePeople,BREADTH%:.status.insights.week.breadthPercent,"+
			"REACH:.status.insights.week.reach,ANSWERS-ACROSS:.status.insights.week.crossAnswers,HIDDEN:.status.insights.week.suppressed")
}

// waitForInsights waits, two refreshes at most, for the manager to have
// counted the conversation (if one was played) into engineering's status.
func (e *Env) waitForInsights(ctx context.Context) {
	if e.talked.IsZero() {
		return
	}
	deadline := time.Now().Add(2*insightsInterval + 10*time.Second)
	for time.Now().Before(deadline) {
		space := &collabv1.CollaborationSpace{}
		err := e.client.Get(ctx, client.ObjectKey{Namespace: "dept-engineering", Name: "engineering"}, space)
		if err == nil && space.Status.Insights != nil && !space.Status.Insights.ChangedAt.Time.Before(e.talked.Truncate(time.Second)) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
