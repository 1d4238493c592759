// Package insightsread reads what the openness insights count from the cluster and
// the chat servers: the spaces with chat, the people each declares, and the
// metadata (sender, time, what it answers) of their rooms' messages, never their
// content. Package insights computes the figures from it.
package insightsread

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/connect"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/livecount"
	"github.com/opencommons/collab-operator/internal/policy"
)

// Options say how Read reaches the chat servers.
type Options struct {
	Chat                 chat.Connector
	CredentialsNamespace string
	// MaxPages bounds the history requests per room (100 messages each); 20
	// when 0.
	MaxPages int
	// Forum connects to the forums whose posts are counted, shared
	// (ForumBackends) and deployed; no post is read when nil.
	Forum forum.Engines
	// ForumEndpointOverride is --forum-endpoint-override: where every
	// deployed forum's API is reached, instead of its Service.
	ForumEndpointOverride string
	// Live, when set, is where the messages are counted as they come: the
	// live count of a ChatBackend's messages, nil while its stream does not
	// count. The rooms' history is then not read; a space whose rooms' past is
	// not counted yet is unread, and asked for.
	Live func(backend string) *livecount.Counter
}

// Input is the organisation and the metadata of its messages.
type Input struct {
	Org      insights.Org
	Messages []insights.Message
	// Posts are the recent posts of the shared forums of the spaces counted
	// (Options.Forum); Org.Categories says whose categories they are in.
	Posts []insights.Post
	// Tallies are the live counts of the chat servers (Options.Live), instead
	// of Messages.
	Tallies []*insights.Tally
	// Pending: a space is unread only because its rooms' past is still being
	// counted; asking again soon finds it.
	Pending bool
	// Incomplete names the rooms whose history reached MaxPages before since:
	// their oldest messages are not counted.
	Incomplete []string
	// Spaces are every CollaborationSpace as Read listed them, for a caller
	// that writes their status from the figures without listing them again.
	Spaces []collabv1.CollaborationSpace
	// Unread are the spaces, by "namespace/name", whose chat server or rooms
	// could not be read, and why: the rest are counted all the same, so one
	// unreachable backend or room does not hide the whole organisation.
	Unread map[string]string
	// MinPeople is the highest minimum of people per figure a
	// CollaborationPolicy sets (spec.insights.minPeople); 0 when none does.
	MinPeople int
}

// insightsRules are what the CollaborationPolicies say about insights.
type insightsRules []collabv1.CollaborationPolicy

// disabledFor reports whether a policy selecting the namespace turns the
// insights of its spaces off.
func (rules insightsRules) disabledFor(ns *corev1.Namespace) bool {
	for _, p := range rules {
		in := p.Spec.Insights
		if in != nil && in.Enabled != nil && !*in.Enabled && policy.SelectsNamespace(p.Spec.NamespaceSelector, ns) {
			return true
		}
	}
	return false
}

// minPeople is the highest minimum any policy sets, 0 when none does.
func (rules insightsRules) minPeople() int {
	n := 0
	for _, p := range rules {
		if in := p.Spec.Insights; in != nil && in.MinPeople != nil {
			n = max(n, int(*in.MinPeople))
		}
	}
	return n
}

// Read reads every CollaborationSpace with chat, the people it
// declares (its User members and the people its groups resolved to, as its
// status names them) as the chat server knows them, and the metadata of the
// messages sent in its rooms since since: what insights.Compute needs. A space
// that opted out (spec.insights) or that a CollaborationPolicy keeps out
// (spec.insights.enabled false) has its rooms' history left unread.
func Read(ctx context.Context, c client.Reader, since time.Time, opts Options) (Input, error) {
	in := Input{Org: insights.Org{Spaces: map[string]insights.Space{}, Rooms: map[string]insights.Room{},
		Categories: map[insights.CategoryRef]string{}}, Unread: map[string]string{}}
	var spaces collabv1.CollaborationSpaceList
	if err := c.List(ctx, &spaces); err != nil {
		return in, fmt.Errorf("cannot list CollaborationSpaces: %w", err)
	}
	in.Spaces = spaces.Items
	var policies collabv1.CollaborationPolicyList
	if err := c.List(ctx, &policies); err != nil {
		return in, fmt.Errorf("cannot list CollaborationPolicies: %w", err)
	}
	r := &reading{c: c, opts: opts, since: since, rules: insightsRules(policies.Items),
		creds: connect.NewCredentials(c, c, opts.CredentialsNamespace),
		conns: map[string]*connect.ChatConnection{}, connErrs: map[string]error{},
		deployed: map[string]*collabv1.CollaborationSpace{}}
	in.MinPeople = r.rules.minPeople()
	if opts.Live != nil {
		r.live = &liveCounts{of: opts.Live, needed: map[*livecount.Counter][]string{}}
	}
	for i := range spaces.Items {
		if err := r.space(ctx, &in, &spaces.Items[i]); err != nil {
			return in, err
		}
	}
	if opts.Forum != nil {
		in.readForums(ctx, since, r.forumReader)
	}
	if r.live != nil {
		in.Tallies = r.live.retain()
	}
	return in, nil
}

// reading is one Read: what it reads with, the chat connections it made, and
// the deployed forums of the spaces counted, by their forum's name in
// insights.CategoryRef.
type reading struct {
	deployed map[string]*collabv1.CollaborationSpace
	c        client.Reader
	opts     Options
	since    time.Time
	rules    insightsRules
	creds    connect.Credentials
	conns    map[string]*connect.ChatConnection
	connErrs map[string]error
	live     *liveCounts
}

// space adds one space with chat to in: its people, rooms and messages, and its
// forum categories. A space that cannot be read is named in in.Unread; only a
// failure to read its namespace fails the whole Read.
func (r *reading) space(ctx context.Context, in *Input, space *collabv1.CollaborationSpace) error {
	if space.Spec.Chat == nil || space.Spec.Chat.BackendRef == nil || space.Status.Chat == nil {
		return nil
	}
	key := space.Namespace + "/" + space.Name
	name := space.Spec.Chat.BackendRef.Name
	if r.conns[name] == nil && r.connErrs[name] == nil {
		r.conns[name], r.connErrs[name] = connect.ToChat(ctx, r.c, r.creds, r.opts.Chat, name)
	}
	if err := r.connErrs[name]; err != nil {
		in.Unread[key] = err.Error()
		return nil
	}
	ns, err := policy.NamespaceOf(ctx, r.c, space.Namespace)
	if err != nil {
		return fmt.Errorf("cannot read namespace %s: %w", space.Namespace, err)
	}
	optedOut := !space.InsightsEnabled() || r.rules.disabledFor(ns)
	var rooms roomReader = historyRooms{since: r.since, maxPages: cmp.Or(r.opts.MaxPages, 20)}
	if r.live != nil {
		rooms = r.live.rooms(name)
	}
	if err := in.addSpace(ctx, r.conns[name], space, optedOut, rooms); err != nil {
		in.Unread[key] = err.Error()
		in.Pending = in.Pending || isPending(err)
		return nil
	}
	if !optedOut {
		r.forumOf(in, space)
	}
	return nil
}

// forumOf counts the space's forum categories, and keeps a deployed forum to
// read its posts from.
func (r *reading) forumOf(in *Input, space *collabv1.CollaborationSpace) {
	if r.opts.Forum == nil {
		return
	}
	if name := in.addCategories(space); name != "" && space.Status.Forum.Backend == "" {
		r.deployed[name] = space
	}
}

// forumReader connects to a forum by its name in insights.CategoryRef: a
// space's deployed forum, or a ForumBackend.
func (r *reading) forumReader(ctx context.Context, name string) (forum.PostReader, error) {
	var fc forum.Client
	if space, deployed := r.deployed[name]; deployed {
		var err error
		if fc, err = connect.ToDeployedForum(ctx, r.c, r.opts.Forum, space, r.opts.ForumEndpointOverride); err != nil {
			return nil, err
		}
	} else {
		conn, err := connect.ToForumBackend(ctx, r.c, r.creds, r.opts.Forum, name)
		if err != nil {
			return nil, err
		}
		fc = conn.Client
	}
	reader, ok := fc.(forum.PostReader)
	if !ok {
		return nil, fmt.Errorf("the client of forum %s cannot read posts", name)
	}
	return reader, nil
}

// addSpace adds a space's people, rooms and messages.
func (in *Input) addSpace(ctx context.Context, conn *connect.ChatConnection, space *collabv1.CollaborationSpace,
	optedOut bool, rooms roomReader) error {
	people, err := declaredUsers(conn.Planner, space, nil)
	if err != nil {
		return err
	}
	owners, err := declaredUsers(conn.Planner, space, []collabv1.Role{collabv1.RoleOwner})
	if err != nil {
		return err
	}
	key := space.Namespace + "/" + space.Name
	in.Org.Spaces[key] = insights.Space{People: people, Owners: owners,
		Open: space.Spec.Visibility == collabv1.VisibilityOpen, OptedOut: optedOut}
	if optedOut {
		return nil // its rooms' history is not read at all
	}
	var failed error
	for _, room := range space.Status.Chat.Rooms {
		in.Org.Rooms[room.RoomID] = insights.Room{Space: key, Shared: sharedRoom(space, room.Name)}
		msgs, complete, err := rooms.read(ctx, conn.Client, room.RoomID)
		if err != nil {
			// The space's other rooms are still read; the space is reported
			// as not read in full.
			failed = errors.Join(failed, fmt.Errorf("room %s: %w", room.Name, err))
			continue
		}
		if !complete {
			in.Incomplete = append(in.Incomplete, key+"/"+room.Name)
		}
		in.Messages = append(in.Messages, msgs...)
	}
	return failed
}

// forumPages bounds the requests that read a forum's posts, 20 a page: 1,000
// posts in the last 30 days.
const forumPages = 50

// addCategories counts the space's forum categories, as its status names
// them: in a shared forum its department category and those under it, in its
// deployed forum its categories. It returns the forum's name in
// insights.CategoryRef: the ForumBackend's, or "deployed/<namespace>/<name>";
// "" when the space has no forum.
func (in *Input) addCategories(space *collabv1.CollaborationSpace) string {
	f := space.Status.Forum
	if f == nil || (f.Backend == "" && f.Engine == "") {
		return ""
	}
	key := space.Namespace + "/" + space.Name
	name := f.Backend
	if name == "" {
		name = "deployed/" + key
	}
	if f.ParentCategoryID > 0 {
		in.Org.Categories[insights.CategoryRef{Forum: name, ID: f.ParentCategoryID}] = key
	}
	for _, cat := range f.Categories {
		if cat.ID > 0 {
			in.Org.Categories[insights.CategoryRef{Forum: name, ID: cat.ID}] = key
		}
	}
	return name
}

// readForums reads the recent posts of each forum with a counted category,
// in at most forumPages requests of 20 posts. A forum that cannot be read
// leaves its spaces unread (the manager keeps their status as it was) and has
// no figures; one with more posts than the pages hold makes their figures
// incomplete.
func (in *Input) readForums(ctx context.Context, since time.Time, reader func(context.Context, string) (forum.PostReader, error)) {
	spacesOf := map[string][]string{}
	for ref, key := range in.Org.Categories {
		if !slices.Contains(spacesOf[ref.Forum], key) {
			spacesOf[ref.Forum] = append(spacesOf[ref.Forum], key)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(spacesOf)) {
		posts, complete, err := readForum(ctx, reader, name, since)
		if err != nil { // no figures of it rather than zeros
			maps.DeleteFunc(in.Org.Categories, func(ref insights.CategoryRef, _ string) bool { return ref.Forum == name })
		}
		for _, key := range spacesOf[name] {
			switch {
			case err != nil:
				in.Unread[key] = err.Error()
			case !complete:
				in.Incomplete = append(in.Incomplete, key+"/forum")
			}
		}
		in.Posts = append(in.Posts, posts...)
	}
}

func readForum(ctx context.Context, reader func(context.Context, string) (forum.PostReader, error), name string,
	since time.Time) ([]insights.Post, bool, error) {
	r, err := reader(ctx, name)
	if err != nil {
		return nil, false, err
	}
	posts, complete, err := r.RecentPosts(ctx, since, forumPages)
	if err != nil {
		return nil, false, fmt.Errorf("cannot read the posts of forum %s: %w", name, err)
	}
	out := make([]insights.Post, len(posts))
	for i, p := range posts {
		out[i] = insights.Post{Category: insights.CategoryRef{Forum: name, ID: p.Category},
			Poster: name + "/" + strconv.FormatInt(p.UID, 10), At: p.At, TopicStart: p.TopicStart}
	}
	return out, complete, nil
}

// declaredUsers are the chat user ids of the people the space declares with
// one of roles (any role when nil): its User members and the people its
// Group members resolved to, as its status names them, through the planner.
func declaredUsers(planner chat.Planner, space *collabv1.CollaborationSpace, roles []collabv1.Role) ([]string, error) {
	only := space.DeepCopy()
	only.Spec.Members = slices.DeleteFunc(only.Spec.Members, func(m collabv1.Member) bool {
		return m.Kind != collabv1.SubjectUser || (roles != nil && !slices.Contains(roles, m.Role))
	})
	var people []chat.Person
	if st := space.Status.Members; st != nil {
		for role, names := range map[collabv1.Role][]string{collabv1.RoleOwner: st.Owners,
			collabv1.RoleModerator: st.Moderators, collabv1.RoleMember: st.Members} {
			if roles != nil && !slices.Contains(roles, role) {
				continue
			}
			for _, n := range names {
				people = append(people, chat.Person{Name: n, Role: role})
			}
		}
	}
	mapped, _, err := planner.MapPeople(people)
	if err != nil {
		return nil, err
	}
	spaceRoom, _, err := planner.DesiredRooms(only, chat.DesiredInput{People: mapped})
	if err != nil {
		return nil, err
	}
	return spaceRoom.Invite, nil
}

// sharedRoom reports whether the space shares the room with other spaces.
func sharedRoom(space *collabv1.CollaborationSpace, name string) bool {
	for _, r := range space.Spec.Chat.Rooms {
		if r.Name == name {
			return len(r.SharedWith) > 0
		}
	}
	return false
}
