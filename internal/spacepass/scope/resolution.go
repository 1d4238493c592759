package scope

import (
	"slices"
	"strings"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/forum"
)

// MemberResolution is what the members phase (package memberphase) learned for the rest of the pass.
type MemberResolution struct {
	// People by username, with their highest role, and the e-mail address the
	// directory gave each, by which a forum account under another name is found.
	People map[string]collabv1.Role
	Emails map[string]string
	// Trusted says removals may go ahead: the membership is complete.
	Trusted bool
	// reason and message of MembersReady, when not resolved cleanly.
	Reason, Message string
	// KeepCondition leaves MembersReady as the last resolution set it.
	KeepCondition bool
	Budget        *RemovalBudget
	Unmapped      []string
	// WithoutForum counts people without a forum account.
	WithoutForum int
	// sampled are the counts of a status cut short that keep added people
	// from: the people are then a sample, and the counts stay (record).
	sampled *collabv1.MemberCounts
}

func (m *MemberResolution) Add(name string, role collabv1.Role) {
	m.People[name] = m.People[name].Higher(role)
}

// Keep adds the people status recorded.
func (m *MemberResolution) Keep(prev *collabv1.MembersStatus) {
	if prev == nil {
		return
	}
	if CutShort(prev) {
		m.sampled = prev.Counts
	}
	for role, names := range map[collabv1.Role][]string{collabv1.RoleOwner: prev.Owners,
		collabv1.RoleModerator: prev.Moderators, collabv1.RoleMember: prev.Members} {
		for _, n := range names {
			m.Add(n, role)
		}
	}
}

// Record writes the people into status, by role.
func (m *MemberResolution) Record(st *collabv1.MembersStatus, prev *collabv1.MembersStatus) {
	st.Owners, st.Moderators, st.Members = nil, nil, nil
	for name, role := range m.People {
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

func AllPeople(st *collabv1.MembersStatus) map[string]bool {
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

// ChatPeople returns the people to project into chat, leaving out (and
// recording) those whose username makes no user id on the chat engine.
func (s *Scope) ChatPeople(planner chat.Planner) []chat.Person {
	m := s.Members
	if m == nil || len(m.People) == 0 {
		return nil
	}
	people := make([]chat.Person, 0, len(m.People))
	for name, role := range m.People {
		people = append(people, chat.Person{Name: name, Role: role})
	}
	slices.SortFunc(people, func(a, b chat.Person) int { return strings.Compare(a.Name, b.Name) })
	mapped, unmapped, err := planner.MapPeople(people)
	if err != nil {
		return nil // a broken template stalls the chat phase on its own
	}
	m.Unmapped = unmapped
	return mapped
}

// ForumPeople returns the people to project into the forum.
func (s *Scope) ForumPeople() []forum.Person {
	m := s.Members
	if m == nil {
		return nil
	}
	out := make([]forum.Person, 0, len(m.People))
	for name, role := range m.People {
		out = append(out, forum.Person{Username: name, Role: role})
	}
	slices.SortFunc(out, func(a, b forum.Person) int { return strings.Compare(a.Username, b.Username) })
	return out
}

// maxListedPeople bounds each of status.members' lists of people: a space of
// the whole organisation stays far below the API server's object size limit.
const MaxListedPeople = 1000

// firstListed sorts names and keeps the first maxListedPeople.
func firstListed(names []string) []string {
	slices.Sort(names)
	return names[:min(len(names), MaxListedPeople)]
}

// CutShort says whether status names fewer people than resolved: what it
// keeps is a sample, which removes the people it leaves out if trusted.
func CutShort(st *collabv1.MembersStatus) bool {
	c := st.Counts
	return c != nil && (int(c.Owners) > len(st.Owners) || int(c.Moderators) > len(st.Moderators) ||
		int(c.Members) > len(st.Members))
}

// PeopleLimit is the lowest spec.limits.people among the policies that select
// a space's namespace, and the policy that sets it. It bounds what the
// directory resolves, so it is applied by the members phase, not at admission.
type PeopleLimit struct {
	Max    int
	Policy string
}

// Tighter returns the lower of the limits, l when both are equal.
func (l *PeopleLimit) Tighter(p *collabv1.CollaborationPolicy) *PeopleLimit {
	if p.Spec.Limits == nil || p.Spec.Limits.People == nil {
		return l
	}
	if people := int(*p.Spec.Limits.People); l == nil || people < l.Max {
		return &PeopleLimit{Max: people, Policy: "CollaborationPolicy " + p.Name}
	}
	return l
}
