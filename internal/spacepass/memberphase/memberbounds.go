package memberphase

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/metrics"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// The bounds on a space's people: the policies' spec.limits.people, and the
// size of status.members, which counts everyone and names a bounded sample.

// applyPeopleLimit undoes a resolution past the people limit of the space's
// policies: one "all-staff" group would otherwise invite the whole
// organisation. The people the space last resolved stay, and, the resolution
// not being trusted, nobody is added or removed until the groups shrink or the
// limit grows (both wake the space).
func (r *Phase) applyPeopleLimit(res *scope.MemberResolution, space *collabv1.CollaborationSpace,
	prev *collabv1.MembersStatus, dirName string, limit *scope.PeopleLimit) {
	if limit == nil || len(res.People) <= limit.Max {
		return
	}
	n := len(res.People)
	res.People, res.Trusted = map[string]collabv1.Role{}, false
	if prev != nil && prev.Directory == dirName {
		res.Keep(prev)
	}
	for name := range res.Emails {
		if _, kept := res.People[name]; !kept {
			delete(res.Emails, name)
		}
	}
	res.Reason = collabv1.ReasonTooManyPeople
	res.Message = fmt.Sprintf("%d people resolve through the space's groups, more than the %d %s allows "+
		"(spec.limits.people); the people the space last resolved are kept, and nobody is added or removed "+
		"until the groups shrink or the limit grows", n, limit.Max, limit.Policy)
	if c := meta.FindStatusCondition(space.Status.Conditions, collabv1.MembersReadyCondition); c == nil ||
		c.Reason != collabv1.ReasonTooManyPeople {
		r.RecordWarning(space, collabv1.ReasonTooManyPeople, "Resolve", "%s", res.Message)
	}
}

// reportCountChange reports a change of a space too large for status to name
// everyone: by how many people it grew or shrank.
func (r *Phase) reportCountChange(space *collabv1.CollaborationSpace, prev, cur *collabv1.MembersStatus) {
	was, now := peopleCounts(prev), peopleCounts(cur)
	delta := int(now.Owners+now.Moderators+now.Members) - int(was.Owners+was.Moderators+was.Members)
	switch {
	case delta > 0:
		metrics.MemberChanges.WithLabelValues(directoryOf(prev, cur), "joined").Add(float64(delta))
		r.RecordChange(space, collabv1.ReasonMembersJoined, "Resolve", "%d more people through the space's groups", delta)
	case delta < 0:
		metrics.MemberChanges.WithLabelValues(directoryOf(prev, cur), "left").Add(float64(-delta))
		r.RecordChange(space, collabv1.ReasonMembersLeft, "Resolve", "%d fewer people through the space's groups", -delta)
	}
}

// peopleCounts are status' counts, or those of its lists when it has none
// (a status written before counts were).
func peopleCounts(st *collabv1.MembersStatus) collabv1.MemberCounts {
	switch {
	case st == nil:
		return collabv1.MemberCounts{}
	case st.Counts != nil:
		return *st.Counts
	}
	return collabv1.MemberCounts{Owners: int32(len(st.Owners)), Moderators: int32(len(st.Moderators)), Members: int32(len(st.Members))}
}
