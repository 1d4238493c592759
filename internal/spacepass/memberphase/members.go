package memberphase

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/directory"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// Group members reach chat and forum through a PeopleDirectory (docs/directory.md):
//
//   - Reconcile, the first phase, resolves the space's Group members to
//     people through the directory its ChatBackend (else its ForumBackend) names,
//     else the cluster's default, each person under their highest role, and
//     records them in status.members;
//   - the chat and forum phases project those people (Scope.ChatPeople, Scope.ForumPeople)
//     and ask the removal budget (Scope.MayRemoveChat, MayRemoveForum) before every removal;
//   - Report, the last phase, records what was removed and held back and
//     sets MembersReady.
//
// Nobody is removed because of what a directory failed to say: when it cannot be
// read, spaces keep the membership in their status; a group that is not found or
// turns up empty keeps its last people; and when the membership cannot be
// trusted at all (the directory was never read and the status holds nothing),
// removals pause.

// Reconcile resolves the space's Group members and sets up the removal
// budget for the pass. It never fails the pass: a directory that cannot be read
// is reported on MembersReady and the last resolved members are kept.
func (r *Phase) Reconcile(ctx context.Context, s *scope.Scope) (ctrl.Result, error) {
	space := s.Space
	prev := s.Before.Status.Members
	res := &scope.MemberResolution{People: map[string]collabv1.Role{}, Emails: map[string]string{}, Trusted: true}
	s.Members = res
	defer func() { res.Budget = scope.NewBudget(r.MaxRemovalsPerPass, space, prev, res.People, res.Trusted) }()

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
		res.Trusted = false
		res.Keep(prev)
		res.Reason, res.Message = collabv1.ReasonDirectoryUnavailable, "Cannot tell which directory the groups resolve through: "+err.Error()
		res.Record(st, prev)
		return ctrl.Result{}, nil
	}
	st.Directory = dirName
	if dirName == "" {
		res.Reason, res.Message = collabv1.ReasonNoDirectory, "Group members reach chat and forum only through a PeopleDirectory: "+
			"name one in the ChatBackend's or ForumBackend's directoryRef, or make one the default"
		return ctrl.Result{}, nil
	}
	if r.Directories == nil {
		// A dry run (collabctl plan) has no directory of its own: it plans with
		// the people the running operator last resolved, as recorded in status.
		res.Trusted = prev != nil && prev.Directory == dirName && !scope.CutShort(prev)
		res.Keep(prev)
		res.Record(st, prev)
		return ctrl.Result{}, nil
	}
	r.resolveGroups(res, space, st, prev, dirName, groups, s.PeopleLimit)
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
func (r *Phase) resolveGroups(res *scope.MemberResolution, space *collabv1.CollaborationSpace,
	st, prev *collabv1.MembersStatus, dirName string, groups map[string]collabv1.Role, limit *scope.PeopleLimit) {
	found, lastErr, ok := r.Directories.Lookup(dirName)
	samePrev := prev != nil && prev.Directory == dirName
	missing := missingGroups(found, groups)
	switch {
	case !ok || len(missing) > 0:
		waitForDirectory(res, space, st, prev, dirName, groups, missing, lastErr, ok)
		return
	case lastErr != nil:
		res.Reason, res.Message = collabv1.ReasonDirectoryUnavailable, fmt.Sprintf("PeopleDirectory %s cannot be read; "+
			"the members it last resolved are kept", dirName)
	}
	emptied := addGroups(res, st, found, groups)
	if emptied && samePrev {
		// A group that is gone or empty keeps the people it may have had: an
		// empty answer is more often a mistake than a department dissolved.
		res.Keep(prev)
		res.Trusted = res.Trusted && !scope.CutShort(prev)
	}
	if len(st.GroupsNotFound) > 0 && !slices.Equal(st.GroupsNotFound, groupsNotFound(prev)) {
		r.RecordWarning(space, collabv1.ReasonGroupNotFound, "Resolve", "PeopleDirectory %s has no group %s; its people, if it had "+
			"any, are kept", dirName, strings.Join(st.GroupsNotFound, ", "))
	}
	// Before the people are recorded and their joins announced: a resolution
	// past the limit is not applied, so nobody joined.
	r.applyPeopleLimit(res, space, prev, st.Directory, limit)
	res.Record(st, prev)
	r.reportJoinsAndLeaves(space, prev, st)
}

// waitForDirectory records what a pass keeps while the directory has not
// resolved the space's groups in this process (a restart), or not all of
// them (a group just added), until the directory's poll, which wakes the space.
func waitForDirectory(res *scope.MemberResolution, space *collabv1.CollaborationSpace, st, prev *collabv1.MembersStatus,
	dirName string, groups map[string]collabv1.Role, missing []string, lastErr error, read bool) {
	if !read && resolvedAtThisGeneration(space, prev, dirName) {
		// Nothing in the spec changed since the directory last resolved the
		// space: status and MembersReady stay as they were, as a restart is no
		// change anyone should see. Nobody is removed meanwhile.
		res.Keep(prev)
		res.Trusted = false
		res.KeepCondition = true
		res.Record(st, prev)
		st.GroupsNotFound = prev.GroupsNotFound
		return
	}
	samePrev := prev != nil && prev.Directory == dirName
	res.Trusted = samePrev && len(missing) == 0 && !scope.CutShort(prev)
	if samePrev {
		res.Keep(prev)
	}
	res.Reason, res.Message = collabv1.ReasonDirectoryPending, fmt.Sprintf("Waiting for PeopleDirectory %s to resolve %s; "+
		"the last resolved members are kept and nobody is removed meanwhile", dirName, groupList(missing, groups))
	if lastErr != nil {
		res.Reason = collabv1.ReasonDirectoryUnavailable
	}
	res.Record(st, prev)
}

// resolvedAtThisGeneration reports whether the space's MembersReady says the
// directory dirName resolved its groups as its spec stands now (prev recorded).
func resolvedAtThisGeneration(space *collabv1.CollaborationSpace, prev *collabv1.MembersStatus, dirName string) bool {
	c := meta.FindStatusCondition(space.Status.Conditions, collabv1.MembersReadyCondition)
	return prev != nil && prev.Directory == dirName && c != nil && c.Status == metav1.ConditionTrue &&
		c.Reason == collabv1.ReasonResolved && c.ObservedGeneration == space.Generation
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
func addGroups(m *scope.MemberResolution, st *collabv1.MembersStatus, found map[string]directory.Group,
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
			m.Add(p.Username, role)
			if p.Email != "" {
				m.Emails[p.Username] = p.Email
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

// reportJoinsAndLeaves emits an event for the people who joined or left the space
// through its groups.
func (r *Phase) reportJoinsAndLeaves(space *collabv1.CollaborationSpace, prev, cur *collabv1.MembersStatus) {
	c := peopleCounts(cur)
	metrics.SetOrDelete(metrics.SpacePeople, float64(c.Owners+c.Moderators+c.Members), space.Namespace, space.Name)
	if prev != nil && (scope.CutShort(prev) || scope.CutShort(cur)) {
		r.reportCountChange(space, prev, cur)
		return
	}
	before, after := scope.AllPeople(prev), scope.AllPeople(cur)
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
		metrics.MemberChanges.WithLabelValues(directoryOf(prev, cur), "joined").Add(float64(len(joined)))
		r.RecordChange(space, collabv1.ReasonMembersJoined, "Resolve", "%d joined through the space's groups: %s", len(joined), shortList(joined))
	}
	if len(left) > 0 {
		metrics.MemberChanges.WithLabelValues(directoryOf(prev, cur), "left").Add(float64(len(left)))
		r.RecordChange(space, collabv1.ReasonMembersLeft, "Resolve", "%d left the space's groups: %s", len(left), shortList(left))
	}
}

// directoryOf names the PeopleDirectory the people came through: the
// current one, or the one they left through.
func directoryOf(prev, cur *collabv1.MembersStatus) string {
	if cur != nil && cur.Directory != "" {
		return cur.Directory
	}
	if prev != nil {
		return prev.Directory
	}
	return ""
}

// shortList names at most 20 people, then says how many more.
func shortList(names []string) string {
	if len(names) <= 20 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:20], ", ") + fmt.Sprintf(" and %d more", len(names)-20)
}

// Report, the last phase, records the pass's removals and the held ones in
// status, and sets MembersReady. Held removals are retried as the oldest removal
// leaves the window.
func (r *Phase) Report(ctx context.Context, s *scope.Scope) (ctrl.Result, error) {
	space, m := s.Space, s.Members
	if m == nil {
		return ctrl.Result{}, nil
	}
	b := m.Budget
	prev := s.Before.Status.Members
	st := space.Status.Members
	leaving := b.StillLeaving(scope.ReachedEveryServer(s))
	if st == nil && (len(b.Removed) > 0 || len(b.Held) > 0 || len(leaving) > 0) {
		st = &collabv1.MembersStatus{}
		space.Status.Members = st
	}
	if st == nil {
		return ctrl.Result{}, nil
	}
	if len(groupRoles(space)) > 0 {
		slices.Sort(m.Unmapped)
		st.Unmapped = m.Unmapped
		st.WithoutForumAccount = int32(m.WithoutForum)
	}
	st.Removals = scope.WindowRemovals(st.Removals, b.Removed)
	st.Leaving = leaving
	result := r.recordHeld(space, st, prev, b)
	metrics.SetOrDelete(metrics.RemovalsHeld, float64(len(b.Held)), space.Namespace, space.Name)
	if len(b.Removed) > 0 {
		ctrl.LoggerFrom(ctx).Info("Removed accounts within the removal budget", "count", len(b.Removed))
	}
	if b.OutsidersWaiting > 0 {
		ctrl.LoggerFrom(ctx).Info("Removals of accounts the space does not list wait: the cap is kept for the declared people due to go", "count", b.OutsidersWaiting)
	}
	r.setMembersReady(s, st)
	if st.Directory == "" && len(st.Removals) == 0 && st.Held == nil && len(st.Leaving) == 0 && len(groupRoles(space)) == 0 {
		space.Status.Members = nil
	}
	return result, nil
}

// setMembersReady reports the resolution and the budget on MembersReady, which
// is not part of Ready.
func (r *Phase) setMembersReady(s *scope.Scope, st *collabv1.MembersStatus) {
	space, m := s.Space, s.Members
	if len(groupRoles(space)) == 0 && st.Held == nil {
		meta.RemoveStatusCondition(&space.Status.Conditions, collabv1.MembersReadyCondition)
		return
	}
	switch {
	case st.Held != nil:
		scope.SetCondition(space, collabv1.MembersReadyCondition, metav1.ConditionFalse, collabv1.ReasonRemovalsCapped, fmt.Sprintf(
			"%d removals held back: at most %d accounts leave the space per hour (--max-member-removals). They follow "+
				"as the hour passes, or annotate the space %s=%s to let the listed ones go now",
			st.Held.Count, m.Budget.Cap, collabv1.ApproveRemovalsAnnotation, st.Held.Digest))
	case m.KeepCondition:
		// The last resolution stands (a restart before the directory's first read).
	case m.Reason != "":
		scope.SetCondition(space, collabv1.MembersReadyCondition, metav1.ConditionFalse, m.Reason, m.Message)
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
		scope.SetCondition(space, collabv1.MembersReadyCondition, metav1.ConditionTrue, collabv1.ReasonResolved, msg)
	}
}

// recordHeld records the removals the budget held back in st, warns when they
// changed, and asks to be requeued as the oldest removal leaves the window.
func (r *Phase) recordHeld(space *collabv1.CollaborationSpace, st, prev *collabv1.MembersStatus,
	b *scope.RemovalBudget) ctrl.Result {
	var result ctrl.Result
	st.Held = nil
	if len(b.Held) == 0 {
		return result
	}
	held := slices.Clone(b.Held)
	slices.Sort(held)
	listed := held[:min(len(held), scope.MaxHeldListed)]
	st.Held = &collabv1.HeldRemovals{Count: int32(len(held)), Accounts: listed, Digest: heldDigest(listed)}
	if prev == nil || prev.Held == nil || prev.Held.Digest != st.Held.Digest {
		r.RecordWarning(space, collabv1.ReasonRemovalsCapped, "Remove", "%d removals held back: at most %d accounts leave the "+
			"space per hour; annotate %s=%s to let them go now: %s", len(held), b.Cap,
			collabv1.ApproveRemovalsAnnotation, st.Held.Digest, shortList(held))
	}
	if kept := st.Removals; len(kept) > 0 {
		result.RequeueAfter = time.Until(kept[0].Time.Add(scope.RemovalWindow)) + time.Second
	}
	return result
}

func heldDigest(accounts []string) string {
	h := sha256.New()
	for _, a := range accounts {
		h.Write([]byte(a))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// memberPhase resolves the space's Group members and reports who joined and left.
type Phase struct {
	*scope.Kit
	Directories        *directory.Registry
	MaxRemovalsPerPass int
}
