package devcluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

// reportPeople logs each sample person in, as their chat client would, and
// prints what they find there: the spaces they are invited to, the rooms each
// space offers them, and what the organisation's directory shows anyone.
func (e *Env) reportPeople(ctx context.Context) {
	e.say("What each person sees in a Matrix client at %s (login <name>, password password-<name>)", e.homeserver.URL)
	w := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(w, "PERSON\tLOGIN\tINVITED TO\tROOMS THOSE SPACES OFFER ONCE ACCEPTED (joined in one step)")
	for _, name := range samplePeople {
		invited, offered, err := e.personView(ctx, name)
		if err != nil {
			_, _ = fmt.Fprintf(w, "%s\t\t(cannot log in: %v)\t\n", name, err)
			continue
		}
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", name, "@"+name+":"+e.homeserver.ServerName, orNone(invited), orNone(offered))
	}
	_ = w.Flush()
	e.reportDirectory(ctx)
}

// personView is the names of the spaces name is invited to, read with name's
// own login, and of the rooms those spaces list. A space shows its restricted
// rooms only to those who joined it, so the rooms are read as the operator
// sees them: what the person finds once they accept.
func (e *Env) personView(ctx context.Context, name string) (invited, offered []string, err error) {
	person, err := matrixuser.Login(ctx, e.homeserver.URL, name, devPassword(name))
	if err != nil {
		return nil, nil, err
	}
	invites, err := person.Invitations(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, inv := range invites {
		invited = append(invited, inv.Name)
		offered = append(offered, childNames(ctx, e.operator, inv.RoomID)...)
	}
	slices.Sort(offered) // a room shared with two of their spaces is listed once
	return invited, slices.Compact(offered), nil
}

// reportDirectory prints the Open spaces the directory lists, as a person in
// no department browses it (Element's Explore).
func (e *Env) reportDirectory(ctx context.Context) {
	backend := &collabv1.ChatBackend{}
	if err := e.client.Get(ctx, client.ObjectKey{Name: devBackend}, backend); err != nil || backend.Status.DirectorySpaceID == "" {
		return
	}
	person, err := matrixuser.Login(ctx, e.homeserver.URL, samplePeople[0], devPassword(samplePeople[0]))
	if err != nil {
		return
	}
	open := childNames(ctx, person, backend.Status.DirectorySpaceID)
	e.say("Anyone on the server can browse the directory %s (Explore rooms) without joining: %s",
		backend.Spec.Matrix.DirectorySpace.Name, orNone(open))
}

// childNames are the names of the rooms a space links, as person sees them. A
// server may answer a non-member with the links alone (Dendrite 0.13 does); a
// client then asks for each linked room, and so does this.
func childNames(ctx context.Context, person *matrixuser.User, spaceID string) []string {
	rooms, err := person.HierarchyRooms(ctx, spaceID)
	if err != nil {
		return nil
	}
	var names []string
	for id := range rooms[spaceID].Children {
		child, ok := rooms[id]
		if !ok {
			linked, err := person.HierarchyRooms(ctx, id)
			if child, ok = linked[id]; err != nil || !ok {
				continue
			}
		}
		names = append(names, child.Name)
	}
	slices.Sort(names)
	return names
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ", ")
}
