// Package dryrun runs the operator's own reconcile code without letting it write:
// wrappers around the Kubernetes, chat and forum clients pass reads through to the
// live systems and record every write as a Change instead of sending it. What the
// wrappers record is the operator's plan, computed by the code that would apply it.
package dryrun

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// Backends a Change can be made on.
const (
	BackendKubernetes = "kubernetes"
	BackendChat       = "chat"
	BackendForum      = "forum"
)

// Change is one write the operator would make.
type Change struct {
	// Backend is BackendKubernetes, BackendChat or BackendForum: the kind of
	// backend, not its engine, as the pass that plans is engine-neutral.
	Backend string `json:"backend"`
	// Verb says what kind of write: create, update, delete, archive, invite,
	// remove, link, set-topic...
	Verb string `json:"verb"`
	// Target is what is written: "RoleBinding ns/name", a room alias, a forum
	// category or group.
	Target string `json:"target"`
	// Object is what inside the target the change is about, when it is one
	// thing: the user invited or removed, the room linked.
	Object string `json:"object,omitempty"`
	// Detail says the change in words.
	Detail string `json:"detail,omitempty"`
}

// String is the change on one line, without the backend.
func (c Change) String() string {
	s := c.Verb + " " + c.Target
	if c.Detail != "" {
		s += ": " + c.Detail
	}
	return s
}

// Plan is what the operator would do for one CollaborationSpace.
type Plan struct {
	// Space is "namespace/name".
	Space string `json:"space"`
	// New is set when the space is not in the cluster yet.
	New bool `json:"new"`
	// Changes in the order the operator would make them.
	Changes []Change `json:"changes"`
	// Notes say what the plan could not see, e.g. a forum that is not running yet,
	// so its content cannot be planned.
	Notes []string `json:"notes,omitempty"`
	// Unknown says what the plan cannot tell: a backend it cannot reach or may
	// not read, a forum whose API does not answer. More may change there than
	// Changes shows.
	Unknown []string `json:"unknown,omitempty"`
	// Errors stopped the plan: the operator would change nothing of the space
	// (a CollaborationPolicy forbids it), or the cluster could not be read.
	Errors []string `json:"errors,omitempty"`
}

// HasChanges reports whether any plan holds a change.
func HasChanges(plans []Plan) bool {
	for _, p := range plans {
		if len(p.Changes) > 0 {
			return true
		}
	}
	return false
}

// HasUnknown reports whether any plan cannot tell part of what would change.
func HasUnknown(plans []Plan) bool {
	for _, p := range plans {
		if len(p.Unknown) > 0 {
			return true
		}
	}
	return false
}

// HasErrors reports whether any plan could not be made.
func HasErrors(plans []Plan) bool {
	for _, p := range plans {
		if len(p.Errors) > 0 {
			return true
		}
	}
	return false
}

// Recorder collects the changes the dry-run clients of one pass record, and the
// names of the rooms they have seen so changes can say "#eng-general:example.org"
// rather than a room id. It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	changes []Change
	names   map[string]string
	notes   []string
	unknown []string
}

// Note records something the plan assumed or could not see that changes
// nothing of what it shows.
func (r *Recorder) Note(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.notes, msg) {
		r.notes = append(r.notes, msg)
	}
}

// Unknown records a part of the plan that cannot be told.
func (r *Recorder) Unknown(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.unknown, msg) {
		r.unknown = append(r.unknown, msg)
	}
}

// Notes returns the notes recorded so far.
func (r *Recorder) Notes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.notes)
}

// Unknowns returns what the plan cannot tell, as recorded so far.
func (r *Recorder) Unknowns() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.unknown)
}

// Add records a change.
func (r *Recorder) Add(c Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, c)
}

// Changes returns the changes recorded so far, in order.
func (r *Recorder) Changes() []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Change(nil), r.changes...)
}

// Name remembers that id is known to users as name (a room id and its alias).
func (r *Recorder) Name(id, name string) {
	if id == "" || name == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names == nil {
		r.names = map[string]string{}
	}
	r.names[id] = name
}

// display returns the name of id when known, else id.
func (r *Recorder) display(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.names[id]; ok {
		return n
	}
	return id
}

// replaceIDs rewrites every known id in s to its name.
func (r *Recorder) replaceIDs(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, name := range r.names {
		s = strings.ReplaceAll(s, id, name)
	}
	return s
}

// symbol is the mark a verb gets in text and markdown output, as terraform does.
func symbol(verb string) string {
	switch verb {
	case "create", "invite", "link", "grant":
		return "+"
	case "delete", "remove", "unlink", "revoke":
		return "-"
	case "archive":
		return "!"
	}
	return "~"
}

// WriteText writes the plans for a terminal.
func WriteText(w io.Writer, plans []Plan) error {
	var b strings.Builder
	total := 0
	for _, p := range plans {
		state := ""
		if p.New {
			state = " (new)"
		}
		fmt.Fprintf(&b, "CollaborationSpace %s%s\n", p.Space, state)
		if len(p.Changes) == 0 {
			fmt.Fprintf(&b, "  %s\n", strings.ToLower(noChanges(p)))
		}
		for _, c := range p.Changes {
			fmt.Fprintf(&b, "  %s %-10s %-12s %s\n", symbol(c.Verb), c.Backend, c.Verb, targetAndDetail(c))
		}
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
		for _, u := range p.Unknown {
			fmt.Fprintf(&b, "  cannot tell: %s\n", u)
		}
		for _, e := range p.Errors {
			fmt.Fprintf(&b, "  error: %s\n", e)
		}
		total += len(p.Changes)
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%d %s in %d %s.\n", total, plural(total, "change"), len(plans), plural(len(plans), "space"))
	_, err := io.WriteString(w, b.String())
	return err
}

// noChanges says a plan holds no change: for certain, or only as far as it
// could see.
func noChanges(p Plan) string {
	switch {
	case len(p.Errors) > 0:
		return "Not planned"
	case len(p.Unknown) > 0:
		return "No changes in what the plan could see"
	}
	return "No changes"
}

func targetAndDetail(c Change) string {
	if c.Detail == "" {
		return c.Target
	}
	return c.Target + ": " + c.Detail
}

// WriteJSON writes the plans as a JSON array.
func WriteJSON(w io.Writer, plans []Plan) error {
	out := make([]Plan, len(plans))
	copy(out, plans)
	for i := range out {
		if out[i].Changes == nil {
			out[i].Changes = []Change{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteMarkdown writes the plans for a pull-request comment. Per space: a short
// table of the changes by backend, the people invited and removed (counts, then
// names), what the plan cannot tell and its notes, then every change in a
// folded table.
func WriteMarkdown(w io.Writer, plans []Plan) error {
	var b strings.Builder
	total, unknown := 0, 0
	for _, p := range plans {
		total += len(p.Changes)
		if len(p.Unknown) > 0 || len(p.Errors) > 0 {
			unknown++
		}
	}
	fmt.Fprintf(&b, "### collabctl plan: %d %s in %d %s", total, plural(total, "change"), len(plans), plural(len(plans), "space"))
	if unknown > 0 {
		fmt.Fprintf(&b, ", %d %s not fully planned", unknown, plural(unknown, "space"))
	}
	b.WriteString("\n\n")
	for _, p := range plans {
		writeSpaceMarkdown(&b, p)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSpaceMarkdown writes one space's part of WriteMarkdown.
func writeSpaceMarkdown(b *strings.Builder, p Plan) {
	state := ""
	if p.New {
		state = " (new)"
	}
	fmt.Fprintf(b, "#### `%s`%s\n\n", p.Space, state)
	if len(p.Changes) == 0 {
		b.WriteString(noChanges(p) + ".\n\n")
	} else {
		b.WriteString("| Backend | Changes |\n|---|---|\n")
		for _, row := range changeCounts(p.Changes) {
			fmt.Fprintf(b, "| %s | %s |\n", row[0], row[1])
		}
		b.WriteString("\n")
	}
	writePeopleMarkdown(b, p.Changes)
	for _, e := range p.Errors {
		fmt.Fprintf(b, "> [!CAUTION]\n> **Not planned:** %s\n\n", mdEscape(e))
	}
	for _, u := range p.Unknown {
		fmt.Fprintf(b, "> [!WARNING]\n> **Cannot tell:** %s\n\n", mdEscape(u))
	}
	for _, n := range p.Notes {
		fmt.Fprintf(b, "> [!NOTE]\n> %s\n\n", mdEscape(n))
	}
	if len(p.Changes) > 0 {
		fmt.Fprintf(b, "<details><summary>All %d %s</summary>\n\n", len(p.Changes), plural(len(p.Changes), "change"))
		b.WriteString("| | Backend | Action | Target | Detail |\n|---|---|---|---|---|\n")
		for _, c := range p.Changes {
			fmt.Fprintf(b, "| %s | %s | %s | `%s` | %s |\n", symbol(c.Verb), c.Backend, c.Verb,
				mdEscape(c.Target), mdEscape(c.Detail))
		}
		b.WriteString("\n</details>\n\n")
	}
}

// writePeopleMarkdown writes who a plan invites and removes: counts, then names.
func writePeopleMarkdown(b *strings.Builder, changes []Change) {
	invited, removed := People(changes)
	if len(invited)+len(removed) == 0 {
		return
	}
	fmt.Fprintf(b, "**People:** %d invited, %d removed\n\n", len(invited), len(removed))
	if len(invited) > 0 {
		fmt.Fprintf(b, "- Invited: %s\n", mdEscape(strings.Join(invited, ", ")))
	}
	if len(removed) > 0 {
		fmt.Fprintf(b, "- Removed: %s\n", mdEscape(strings.Join(removed, ", ")))
	}
	b.WriteString("\n")
}

// changeCounts sums changes up by backend, in the order backends come in, as
// "2 create, 1 invite" with verbs in the order they first come.
func changeCounts(changes []Change) [][2]string {
	var backends []string
	verbs := map[string][]string{}
	counts := map[string]map[string]int{}
	for _, c := range changes {
		if counts[c.Backend] == nil {
			backends = append(backends, c.Backend)
			counts[c.Backend] = map[string]int{}
		}
		if counts[c.Backend][c.Verb] == 0 {
			verbs[c.Backend] = append(verbs[c.Backend], c.Verb)
		}
		counts[c.Backend][c.Verb]++
	}
	out := make([][2]string, 0, len(backends))
	for _, be := range backends {
		parts := make([]string, 0, len(verbs[be]))
		for _, v := range verbs[be] {
			parts = append(parts, fmt.Sprintf("%d %s", counts[be][v], v))
		}
		out = append(out, [2]string{be, strings.Join(parts, ", ")})
	}
	return out
}

// invitingPrefix starts the list of people a new room is created with, at the
// end of a chat create's Detail (Chat.Create).
const invitingPrefix = ", inviting "

// People returns who the changes invite and remove, on chat and forum, each
// sorted and without repeats: the people of "invite" and "remove" changes, and
// those a new room is created with.
func People(changes []Change) (invited, removed []string) {
	for _, c := range changes {
		switch {
		case c.Verb == "invite" && c.Object != "":
			invited = append(invited, c.Object)
		case c.Verb == "remove" && c.Object != "" && c.Backend != BackendKubernetes:
			removed = append(removed, c.Object)
		case c.Verb == "create" && c.Backend == BackendChat:
			if i := strings.LastIndex(c.Detail, invitingPrefix); i >= 0 {
				invited = append(invited, strings.Split(c.Detail[i+len(invitingPrefix):], ", ")...)
			}
		}
	}
	slices.Sort(invited)
	slices.Sort(removed)
	return slices.Compact(invited), slices.Compact(removed)
}

// mdEscape keeps a cell in its table cell.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "`", "'")
	return strings.ReplaceAll(s, "\n", " ")
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
