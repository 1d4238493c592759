package spacepass

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/directory"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/metrics"
)

// Group members reach chat and forum through a PeopleDirectory (docs/directory.md):
//
//   - reconcileMembers, the first phase, resolves the space's Group members to
//     people through the directory its ChatBackend (else its ForumBackend) names,
//     else the cluster's default, each person under their highest role, and
//     records them in status.members;
//   - the chat and forum phases project those people (chatPeople, forumPeople)
//     and ask the removal budget (mayRemove) before every removal;
//   - reportMembers, the last phase, records what was removed and held back and
//     sets MembersReady.
//
// Nobody is removed because of what a directory failed to say: when it cannot be
// read, spaces keep the membership in their status; a group that is not found or
// turns up empty keeps its last people; and when the membership cannot be
// trusted at all (the directory was never read and the status holds nothing),
// removals pause.

// memberResolution is what reconcileMembers learned for the rest of the pass.
type memberResolution struct {
	// people by username, with their highest role, and the e-mail address the
	// directory gave each, by which a forum account under another name is found.
	people map[string]collabv1.Role
	emails map[string]string
	// trusted says removals may go ahead: the membership is complete.
	trusted bool
	// reason and message of MembersReady, when not resolved cleanly.
	reason, message string
	budget          *removalBudget
	unmapped        []string
	// withoutForum counts people without a forum account.
	withoutForum int
	// sampled are the counts of a status cut short that keep added people
	// from: the people are then a sample, and the counts stay (record).
	sampled *collabv1.MemberCounts
}

// reconcileMembers resolves the space's Group members and sets up the removal
// budget for the pass. It never fails the pass: a directory that cannot be read
// is reported on MembersReady and the last resolved members are kept.
func (r *Pass) reconcileMembers(ctx context.Context, s *spaceScope) (ctrl.Result, error) {
	space := s.space
	prev := s.before.Status.Members
	res := &memberResolution{people: map[string]collabv1.Role{}, emails: map[string]string{}, trusted: true}
	s.members = res
	defer func() { res.budget = r.newBudget(space, prev, res.people, res.trusted) }()

	groups := groupRoles(space)
	if len(groups) == 0 {
		clearMembers(space, prev)
		return ctrl.Result{}, nil
	}
	st := &collabv1.MembersStatus{}
	if prev != nil {
		st.Removals, st.Held = prev.Removals, prev.Held
	}
	space.Status.Members = st
	dirName, err := directory.NameFor(ctx, r.Client, space)
	if err != nil {
		res.trusted = false
		res.keep(prev)
		res.reason, res.message = collabv1.ReasonDirectoryUnavailable, "Cannot tell which directory the groups resolve through: "+err.Error()
		res.record(st, prev)
		return ctrl.Result{}, nil
	}
	st.Directory = dirName
	if dirName == "" {
		res.reason, res.message = collabv1.ReasonNoDirectory, "Group members reach chat and forum only through a PeopleDirectory: "+
			"name one in the ChatBackend's or ForumBackend's directoryRef, or make one the default"
		return ctrl.Result{}, nil
	}
	if r.Directories == nil {
		// A dry run (collabctl plan) has no directory of its own: it plans with
		// the people the running operator last resolved, as recorded in status.
		res.trusted = prev != nil && prev.Directory == dirName && !cutShort(prev)
		res.keep(prev)
		res.record(st, prev)
		return ctrl.Result{}, nil
	}
	r.resolveGroups(res, space, st, prev, dirName, groups, s.peopleLimit)
	return ctrl.Result{}, nil
}

// clearMembers drops the members status of a space without Group members,
// keeping the removals and held removals still in the window.
func clearMembers(space *collabv1.CollaborationSpace, prev *collabv1.MembersStatus) {
	if prev != nil && (len(prev.Removals) > 0 || prev.Held != nil) {
		space.Status.Members = &collabv1.MembersStatus{Removals: prev.Removals}
	} else {
		space.Status.Members = nil
	}
	meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.MembersReadyCondition)
}

// resolveGroups resolves the space's groups through the directory dirName of
// the running operator and records the people in st.
func (r *Pass) resolveGroups(res *memberResolution, space *collabv1.CollaborationSpace,
	st, prev *collabv1.MembersStatus, dirName string, groups map[string]collabv1.Role, limit *peopleLimit) {
	found, lastErr, ok := r.Directories.Lookup(dirName)
	samePrev := prev != nil && prev.Directory == dirName
	missing := missingGroups(found, groups)
	switch {
	case !ok || len(missing) > 0:
		// Not read yet in this process (a restart), or a group just added: keep
		// what status says until the directory's poll, which this space's change
		// has already asked for.
		res.trusted = samePrev && len(missing) == 0 && !cutShort(prev)
		if samePrev {
			res.keep(prev)
		}
		res.reason, res.message = collabv1.ReasonDirectoryPending, fmt.Sprintf("Waiting for PeopleDirectory %s to resolve %s; "+
			"the last resolved members are kept and nobody is removed meanwhile", dirName, groupList(missing, groups))
		if lastErr != nil {
			res.reason = collabv1.ReasonDirectoryUnavailable
		}
		res.record(st, prev)
		return
	case lastErr != nil:
		res.reason, res.message = collabv1.ReasonDirectoryUnavailable, fmt.Sprintf("PeopleDirectory %s cannot be read; "+
			"the members it last resolved are kept", dirName)
	}
	emptied := res.addGroups(st, found, groups)
	if emptied && samePrev {
		// A group that is gone or empty keeps the people it may have had: an
		// empty answer is more often a mistake than a department dissolved.
		res.keep(prev)
		res.trusted = res.trusted && !cutShort(prev)
	}
	if len(st.GroupsNotFound) > 0 && !slices.Equal(st.GroupsNotFound, groupsNotFound(prev)) {
		r.recordWarning(space, collabv1.ReasonGroupNotFound, "Resolve", "PeopleDirectory %s has no group %s; its people, if it had "+
			"any, are kept", dirName, strings.Join(st.GroupsNotFound, ", "))
	}
	// Before the people are recorded and their joins announced: a resolution
	// past the limit is not applied, so nobody joined.
	r.applyPeopleLimit(res, space, prev, st.Directory, limit)
	res.record(st, prev)
	r.reportJoinsAndLeaves(space, prev, st)
}

// missingGroups lists, sorted, the groups the directory has not resolved yet.
func missingGroups(found map[string]directory.Group, groups map[string]collabv1.Role) []string {
	var missing []string
	for g := range groups {
		if _, in := found[g]; !in {
			missing = append(missing, g)
		}
	}
	slices.Sort(missing)
	return missing
}

// addGroups adds the people of the resolved groups with their group's role,
// records in st the groups the directory does not have, and reports whether
// any group came back without people.
func (m *memberResolution) addGroups(st *collabv1.MembersStatus, found map[string]directory.Group,
	groups map[string]collabv1.Role) (emptied bool) {
	for g, role := range groups {
		grp := found[g]
		if !grp.Found {
			st.GroupsNotFound = append(st.GroupsNotFound, g)
		}
		if len(grp.People) == 0 {
			emptied = true
		}
		for _, p := range grp.People {
			m.add(p.Username, role)
			if p.Email != "" {
				m.emails[p.Username] = p.Email
			}
		}
	}
	slices.Sort(st.GroupsNotFound)
	return emptied
}

// groupRoles maps each Group member to its highest role.
func groupRoles(space *collabv1.CollaborationSpace) map[string]collabv1.Role {
	out := map[string]collabv1.Role{}
	for _, m := range space.Spec.Members {
		if m.Kind == collabv1.SubjectGroup {
			out[m.Name] = out[m.Name].Higher(m.Role)
		}
	}
	return out
}

func groupList(missing []string, groups map[string]collabv1.Role) string {
	if len(missing) > 0 {
		return "groups " + strings.Join(missing, ", ")
	}
	return fmt.Sprintf("its %d groups", len(groups))
}

func groupsNotFound(st *collabv1.MembersStatus) []string {
	if st == nil {
		return nil
	}
	return st.GroupsNotFound
}

func (m *memberResolution) add(name string, role collabv1.Role) {
	m.people[name] = m.people[name].Higher(role)
}

// keep adds the people status recorded.
func (m *memberResolution) keep(prev *collabv1.MembersStatus) {
	if prev == nil {
		return
	}
	if cutShort(prev) {
		m.sampled = prev.Counts
	}
	for role, names := range map[collabv1.Role][]string{collabv1.RoleOwner: prev.Owners,
		collabv1.RoleModerator: prev.Moderators, collabv1.RoleMember: prev.Members} {
		for _, n := range names {
			m.add(n, role)
		}
	}
}

// record writes the people into status, by role.
func (m *memberResolution) record(st *collabv1.MembersStatus, prev *collabv1.MembersStatus) {
	st.Owners, st.Moderators, st.Members = nil, nil, nil
	for name, role := range m.people {
		switch role {
		case collabv1.RoleOwner:
			st.Owners = append(st.Owners, name)
		case collabv1.RoleModerator:
			st.Moderators = append(st.Moderators, name)
		default:
			st.Members = append(st.Members, name)
		}
	}
	st.Counts = &collabv1.MemberCounts{Owners: int32(len(st.Owners)), Moderators: int32(len(st.Moderators)),
		Members: int32(len(st.Members))}
	if c := m.sampled; c != nil {
		// What was kept from a sample is still a sample of as many people.
		st.Counts.Owners, st.Counts.Moderators = max(st.Counts.Owners, c.Owners), max(st.Counts.Moderators, c.Moderators)
		st.Counts.Members = max(st.Counts.Members, c.Members)
	}
	st.Owners, st.Moderators, st.Members = firstListed(st.Owners), firstListed(st.Moderators), firstListed(st.Members)
	if prev != nil {
		st.Unmapped = prev.Unmapped
	}
}

func allPeople(st *collabv1.MembersStatus) map[string]bool {
	out := map[string]bool{}
	if st == nil {
		return out
	}
	for _, l := range [][]string{st.Owners, st.Moderators, st.Members} {
		for _, n := range l {
			out[n] = true
		}
	}
	return out
}

// reportJoinsAndLeaves emits an event for the people who joined or left the space
// through its groups.
func (r *Pass) reportJoinsAndLeaves(space *collabv1.CollaborationSpace, prev, cur *collabv1.MembersStatus) {
	c := peopleCounts(cur)
	metrics.SpacePeople.WithLabelValues(space.Namespace, space.Name, "Owner").Set(float64(c.Owners))
	metrics.SpacePeople.WithLabelValues(space.Namespace, space.Name, "Moderator").Set(float64(c.Moderators))
	metrics.SpacePeople.WithLabelValues(space.Namespace, space.Name, "Member").Set(float64(c.Members))
	if prev != nil && (cutShort(prev) || cutShort(cur)) {
		r.reportCountChange(space, prev, cur)
		return
	}
	before, after := allPeople(prev), allPeople(cur)
	var joined, left []string
	for n := range after {
		if !before[n] {
			joined = append(joined, n)
		}
	}
	for n := range before {
		if !after[n] {
			left = append(left, n)
		}
	}
	slices.Sort(joined)
	slices.Sort(left)
	if len(joined) > 0 {
		metrics.MemberChanges.WithLabelValues(space.Namespace, space.Name, "joined").Add(float64(len(joined)))
		r.recordChange(space, collabv1.ReasonMembersJoined, "Resolve", "%d joined through the space's groups: %s", len(joined), shortList(joined))
	}
	if len(left) > 0 {
		metrics.MemberChanges.WithLabelValues(space.Namespace, space.Name, "left").Add(float64(len(left)))
		r.recordChange(space, collabv1.ReasonMembersLeft, "Resolve", "%d left the space's groups: %s", len(left), shortList(left))
	}
}

// shortList names at most 20 people, then says how many more.
func shortList(names []string) string {
	if len(names) <= 20 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:20], ", ") + fmt.Sprintf(" and %d more", len(names)-20)
}

// chatPeople returns the people to project into chat, leaving out (and
// recording) those whose username makes no user id on the chat engine.
func (s *spaceScope) chatPeople(planner chat.Planner) []chat.Person {
	m := s.members
	if m == nil || len(m.people) == 0 {
		return nil
	}
	people := make([]chat.Person, 0, len(m.people))
	for name, role := range m.people {
		people = append(people, chat.Person{Name: name, Role: role})
	}
	slices.SortFunc(people, func(a, b chat.Person) int { return strings.Compare(a.Name, b.Name) })
	mapped, unmapped, err := planner.MapPeople(people)
	if err != nil {
		return nil // a broken template stalls the chat phase on its own
	}
	m.unmapped = unmapped
	return mapped
}

// forumPeople returns the people to project into the forum.
func (s *spaceScope) forumPeople() []forum.Person {
	m := s.members
	if m == nil {
		return nil
	}
	out := make([]forum.Person, 0, len(m.people))
	for name, role := range m.people {
		out = append(out, forum.Person{Username: name, Role: role})
	}
	slices.SortFunc(out, func(a, b forum.Person) int { return strings.Compare(a.Username, b.Username) })
	return out
}

// reportMembers, the last phase, records the pass's removals and the held ones in
// status, and sets MembersReady. Held removals are retried as the oldest removal
// leaves the window.
func (r *Pass) reportMembers(ctx context.Context, s *spaceScope) (ctrl.Result, error) {
	space, m := s.space, s.members
	if m == nil {
		return ctrl.Result{}, nil
	}
	b := m.budget
	prev := s.before.Status.Members
	st := space.Status.Members
	leaving := b.stillLeaving(reachedEveryServer(s))
	if st == nil && (len(b.removed) > 0 || len(b.held) > 0 || len(leaving) > 0) {
		st = &collabv1.MembersStatus{}
		space.Status.Members = st
	}
	if st == nil {
		return ctrl.Result{}, nil
	}
	if len(groupRoles(space)) > 0 {
		slices.Sort(m.unmapped)
		st.Unmapped = m.unmapped
		st.WithoutForumAccount = int32(m.withoutForum)
	}
	st.Removals = windowRemovals(st.Removals, b.removed)
	st.Leaving = leaving
	result := r.recordHeld(space, st, prev, b)
	metrics.RemovalsHeld.WithLabelValues(space.Namespace, space.Name).Set(float64(len(b.held)))
	if len(b.removed) > 0 {
		ctrl.LoggerFrom(ctx).Info("Removed accounts within the removal budget", "count", len(b.removed))
	}
	if b.outsidersWaiting > 0 {
		ctrl.LoggerFrom(ctx).Info("Removals of accounts the space does not list wait: the cap is kept for the declared people due to go", "count", b.outsidersWaiting)
	}
	r.setMembersReady(s, st)
	if st.Directory == "" && len(st.Removals) == 0 && st.Held == nil && len(st.Leaving) == 0 && len(groupRoles(space)) == 0 {
		space.Status.Members = nil
	}
	return result, nil
}

// setMembersReady reports the resolution and the budget on MembersReady, which
// is not part of Ready.
func (r *Pass) setMembersReady(s *spaceScope, st *collabv1.MembersStatus) {
	space, m := s.space, s.members
	if len(groupRoles(space)) == 0 && st.Held == nil {
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.MembersReadyCondition)
		return
	}
	switch {
	case st.Held != nil:
		setCondition(space, collabv1.MembersReadyCondition, metav1.ConditionFalse, collabv1.ReasonRemovalsCapped, fmt.Sprintf(
			"%d removals held back: at most %d accounts leave the space per hour (--max-member-removals). They follow "+
				"as the hour passes, or annotate the space %s=%s to let the listed ones go now",
			st.Held.Count, m.budget.cap, collabv1.ApproveRemovalsAnnotation, st.Held.Digest))
	case m.reason != "":
		setCondition(space, collabv1.MembersReadyCondition, metav1.ConditionFalse, m.reason, m.message)
	default:
		c := peopleCounts(st)
		msg := fmt.Sprintf("%d people through %d groups of PeopleDirectory %s: %d owners, %d moderators, %d members",
			c.Owners+c.Moderators+c.Members, len(groupRoles(space)), st.Directory, c.Owners, c.Moderators, c.Members)
		if len(st.GroupsNotFound) > 0 {
			msg += "; not found: " + strings.Join(st.GroupsNotFound, ", ")
		}
		if len(st.Unmapped) > 0 {
			msg += fmt.Sprintf("; %d people have no valid chat user id", len(st.Unmapped))
		}
		if st.WithoutForumAccount > 0 {
			msg += fmt.Sprintf("; %d have no forum account yet", st.WithoutForumAccount)
		}
		setCondition(space, collabv1.MembersReadyCondition, metav1.ConditionTrue, collabv1.ReasonResolved, msg)
	}
}
