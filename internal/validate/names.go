package validate

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/engines"
	"github.com/opencommons/collab-operator/internal/forum"
)

// The names the operator gives remote objects are computed here by the
// engines' own planners, the ones its controllers use (chat.Planner and
// forum.Planner), never by a copy of their schemes: what validate calls a
// collision is what the operator would stall on.
//
// Chat: every room and space room of a space, and every backend's directory
// space, claims an alias on its chat server, where aliases are global. The
// claim is on the full alias (#<localpart>:<serverName>) when the ChatBackend
// is among the files, so two ChatBackends on one server share their aliases;
// otherwise on the backend's name and alias local part.
//
// Forum: every space on a shared forum (a ForumBackend) claims its groups'
// names there, which the forum keeps unique. A deployed forum serves one
// space, and categories are found by id (a department category also by the
// space's identity that ends its name), so neither can collide.

// chatServer is what validate needs of a ChatBackend among the files.
type chatServer struct {
	checkedObject
	planner chat.Planner
	// directory, when set, is the backend's directory space, declared at field.
	directory *collabv1.DirectorySpace
	field     string
}

// chatServers reads the ChatBackends among objs, by name. One that does not
// convert, or has no engine section this binary knows, is left out: it has
// schema errors already.
func chatServers(objs []checkedObject) map[string]chatServer {
	servers := map[string]chatServer{}
	for _, o := range objs {
		if o.obj.GetKind() != "ChatBackend" {
			continue
		}
		b := &collabv1.ChatBackend{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.obj.Object, b); err != nil {
			continue
		}
		planner, err := engines.Chat().Planner(b)
		if err != nil {
			continue
		}
		server := engines.Chat().Server(b)
		s := chatServer{checkedObject: o, planner: planner}
		if dir := server.DirectorySpace; dir != nil {
			s.directory, s.field = dir, server.Section+".directorySpace"
			if dir.Alias != "" {
				s.field += ".alias"
			}
		}
		servers[b.Name] = s
	}
	return servers
}

// chatPlannerOf returns the planner of the named ChatBackend, and whether the
// backend is among the files. One that is not gets engines.ChatPlaceholder.
func chatPlannerOf(servers map[string]chatServer, backend string) (chat.Planner, bool) {
	if s, ok := servers[backend]; ok {
		return s.planner, true
	}
	return engines.ChatPlaceholder(), false
}

// forumPlannerOf returns the planner of the named ForumBackend. Offline, its
// engine is not known: engines.ForumPlaceholder's rules stand for it.
func forumPlannerOf(string) forum.Planner { return engines.ForumPlaceholder() }

// nameClaims records who claimed each name first and reports later claimants.
type nameClaims struct {
	claimed  map[string]claim
	findings []Finding
}

// take claims a name (shown as display, keyed by key) for o at field: a what
// (an alias, a forum group) on where (the backend).
func (n *nameClaims) take(o checkedObject, key, display, what, where, field string) {
	if n.claimed == nil {
		n.claimed = map[string]claim{}
	}
	first, ok := n.claimed[key]
	if !ok {
		n.claimed[key] = o.claimAt(field)
		return
	}
	if first.by == o.ref() {
		return // two rooms of one space: the schema check reports the duplicate
	}
	n.findings = append(n.findings, o.place([]problem{{
		field:   field,
		message: fmt.Sprintf("Duplicate value: %q: %s already claimed on %s by %s", display, what, where, first),
	}})...)
}

// takeAlias claims a room's alias on backend's chat server: its full alias
// when the server is known, else its local part on the backend.
func (n *nameClaims) takeAlias(o checkedObject, backend string, known bool, room chat.RoomSpec, field string) {
	key, display := "ChatBackend/"+backend+"\x00"+room.AliasLocalpart, "#"+room.AliasLocalpart
	if known && room.CanonicalAlias != "" {
		key, display = room.CanonicalAlias, room.CanonicalAlias
	}
	n.take(o, "alias\x00"+key, display, "alias", "ChatBackend "+backend, field)
}

// aliasFindings reports aliases claimed twice on one chat server, as the
// operator's planners compute them: the directory spaces' first, then each
// space's space room and rooms.
func aliasFindings(spaces []spaceObject, objs []checkedObject) []Finding {
	servers := chatServers(objs)
	var n nameClaims
	for _, o := range objs { // in file order, not the map's
		s, ok := servers[o.obj.GetName()]
		if !ok || s.doc != o.doc || s.directory == nil {
			continue
		}
		n.takeAlias(o, o.obj.GetName(), true, s.planner.Directory(o.obj.GetName(), *s.directory, "", nil), s.field)
	}
	for _, s := range spaces {
		c := s.space.Spec.Chat
		if c == nil || c.BackendRef == nil {
			continue
		}
		backend := c.BackendRef.Name
		planner, known := chatPlannerOf(servers, backend)
		spaceRoom, rooms, err := planner.DesiredRooms(s.space, chat.DesiredInput{})
		if err != nil && !known {
			continue // the members' user ids depend on the backend's settings
		}
		if err != nil {
			n.findings = append(n.findings, s.place([]problem{{
				field:   "spec.members",
				message: fmt.Sprintf("Invalid value: ChatBackend %s cannot map the members to user ids: %v", backend, err),
			}})...)
			continue
		}
		n.takeAlias(s.checkedObject, backend, known, spaceRoom, "metadata.name")
		for i, r := range rooms { // DesiredRooms keeps spec order
			n.takeAlias(s.checkedObject, backend, known, r, fmt.Sprintf("spec.chat.rooms[%d].name", i))
		}
	}
	return n.findings
}

// forumGroupFindings reports forum group names claimed twice on one shared
// forum, as the forum planner names them.
func forumGroupFindings(spaces []spaceObject) []Finding {
	var n nameClaims
	for _, s := range spaces {
		f := s.space.Spec.Forum
		if f == nil || f.BackendRef == nil {
			continue
		}
		backend := f.BackendRef.Name
		desired := forumPlannerOf(backend).DesiredForum(s.space, forum.DesiredInput{Shared: true})
		for _, g := range desired.Groups {
			n.take(s.checkedObject, "group\x00"+backend+"\x00"+g.Name, g.Name, "forum group", "ForumBackend "+backend, "metadata.name")
		}
	}
	return n.findings
}
