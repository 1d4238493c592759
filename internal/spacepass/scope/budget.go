package scope

import (
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
)

// The removal budget of memberPolicy Authoritative: how many accounts may leave
// a space per hour, whose removals are due first, and what status keeps of it.

// removalWindow is the period the removal budget counts over.
const RemovalWindow = time.Hour

// maxHeldListed bounds the accounts status.members.held lists.
const MaxHeldListed = 500

// RemovalBudget caps the accounts removed from a space per hour, across rooms,
// forum groups and passes, with the accounting kept in status.members.removals.
//
// The cap is there for the people the space declared: a directory that briefly
// answers too little makes them look undeclared, and the cap stops that from
// emptying the rooms. Every removal counts against it, but the removals of
// declared people that are due (those held for approval, and the people who
// left the space's groups since the last pass) come first: an account the space
// does not list as one of its people (someone who joined an open room under
// memberPolicy Authoritative) is removed only from what the cap leaves over
// after them, and otherwise waits for a later pass, without being held. So
// however many outsiders there are, and whatever their names sort as, they
// never keep a departed colleague's removal waiting past the hour in which
// slots free up.
type RemovalBudget struct {
	Cap      int
	recent   map[string]bool
	used     int
	approved map[string]bool
	trusted  bool
	Removed  []string
	Held     []string
	paused   int
	// due are the accounts of declared people whose removal is due; departed
	// are the names of those who left the groups, whose chat accounts
	// dueChat adds once the backend's planner is known.
	due      map[string]bool
	departed []string
	// leaving are the names of all who left, kept in status.members.leaving
	// until a pass reaches every server (stillLeaving).
	leaving []string
	// OutsidersWaiting counts the removals of other accounts that wait for a
	// later pass, the cap being kept for the due ones.
	OutsidersWaiting int
}

// allow says whether account may be removed now, and counts it.
func (b *RemovalBudget) allow(account string) bool {
	switch {
	case b == nil:
		return true
	case !b.trusted:
		b.paused++
		return false
	case b.recent[account] || slices.Contains(b.Removed, account):
		return true // already counted in this window
	case b.approved[account]:
	case b.due[account]:
		if b.Cap > 0 && b.used >= b.Cap {
			if !slices.Contains(b.Held, account) {
				b.Held = append(b.Held, account)
			}
			return false
		}
		b.used++
	default:
		if b.Cap > 0 && b.used+len(b.due) >= b.Cap {
			b.OutsidersWaiting++
			return false
		}
		b.used++
	}
	delete(b.due, account)
	b.Removed = append(b.Removed, account)
	return true
}

// dueChat adds the chat accounts of the people who left the space's groups, as
// the backend's planner maps their names, once per pass.
func (b *RemovalBudget) dueChat(planner chat.Planner) {
	mapper, ok := planner.(interface {
		UserID(chat.Person) (string, error)
	})
	if b == nil || !ok || b.departed == nil {
		return
	}
	for _, name := range b.departed {
		if id, err := mapper.UserID(chat.Person{Name: name}); err == nil && !b.recent[id] {
			b.due[id] = true
		}
	}
	b.departed = nil
}

// NewBudget sets up the removal budget from status: the accounts removed in the
// last hour count against the cap, and an approval annotation that names the
// digest of the held removals lets exactly those go.
func NewBudget(maxRemovals int, space *collabv1.CollaborationSpace, prev *collabv1.MembersStatus,
	people map[string]collabv1.Role, trusted bool) *RemovalBudget {
	b := &RemovalBudget{Cap: maxRemovals, recent: map[string]bool{}, approved: map[string]bool{}, trusted: trusted,
		due: map[string]bool{}}
	if prev == nil {
		return b
	}
	cutoff := time.Now().Add(-RemovalWindow)
	for _, rec := range prev.Removals {
		if rec.Time.After(cutoff) {
			for _, a := range rec.Accounts {
				if !b.recent[a] {
					b.recent[a] = true
					b.used++
				}
			}
		}
	}
	// Only declared people are ever held, so a held account is one whose
	// removal is due until it goes.
	if h := prev.Held; h != nil {
		for _, a := range h.Accounts {
			b.due[a] = true
		}
	}
	b.departed = []string{}
	for name := range leavers(prev) {
		if _, stays := people[name]; !stays {
			if !b.recent["forum:"+name] {
				b.due["forum:"+name] = true
			}
			b.departed = append(b.departed, name)
		}
	}
	slices.Sort(b.departed)
	b.leaving = slices.Clone(b.departed)
	if h := prev.Held; h != nil && h.Digest != "" && space.Annotations[collabv1.ApproveRemovalsAnnotation] == h.Digest {
		for _, a := range h.Accounts {
			b.approved[a] = true
		}
	}
	return b
}

// leavers are the people status lists, and those it still lists as leaving:
// a departure a failed pass saw stays due on the next one.
func leavers(prev *collabv1.MembersStatus) map[string]bool {
	out := AllPeople(prev)
	if prev != nil {
		for _, n := range prev.Leaving {
			out[n] = true
		}
	}
	return out
}

// StillLeaving is what status.members.leaving keeps after a pass: nothing once
// the pass reached every server (their removals were made, held, or found
// already done), else everyone who left, up to maxHeldListed.
func (b *RemovalBudget) StillLeaving(reachedEveryServer bool) []string {
	if b == nil || reachedEveryServer || len(b.leaving) == 0 {
		return nil
	}
	return b.leaving[:min(len(b.leaving), MaxHeldListed)]
}

// MayRemoveChat returns what asks the removal budget before a chat user leaves
// the space; planner maps the departed people's names to chat accounts.
func (s *Scope) MayRemoveChat(planner chat.Planner) func(userID string) bool {
	return func(userID string) bool {
		if s.Members == nil {
			return true
		}
		s.Members.Budget.dueChat(planner)
		return s.Members.Budget.allow(userID)
	}
}

// MayRemoveForum asks the removal budget before a forum user leaves a group.
func (s *Scope) MayRemoveForum(username string) bool {
	if s.Members == nil {
		return true
	}
	return s.Members.Budget.allow("forum:" + username)
}

// ReachedEveryServer says whether the pass carried out the removals it was due
// to: the budget trusted the resolution, and neither the chat nor the forum
// phase failed.
func ReachedEveryServer(s *Scope) bool {
	if b := s.Members.Budget; b != nil && (!b.trusted || b.paused > 0) {
		return false
	}
	if len(s.Errs) > 0 {
		return false
	}
	for _, c := range []string{collabv1.ChatReadyCondition, collabv1.ForumReadyCondition} {
		if meta.IsStatusConditionFalse(s.Space.Status.Conditions, c) {
			return false
		}
	}
	return true
}

// WindowRemovals keeps the removal records still in the window and adds one for
// the accounts this pass removed.
func WindowRemovals(records []collabv1.RemovalRecord, removed []string) []collabv1.RemovalRecord {
	now := time.Now()
	var kept []collabv1.RemovalRecord
	for _, rec := range records {
		if rec.Time.After(now.Add(-RemovalWindow)) {
			kept = append(kept, rec)
		}
	}
	if len(removed) > 0 {
		accounts := slices.Clone(removed)
		slices.Sort(accounts)
		kept = append(kept, collabv1.RemovalRecord{Time: metav1.NewTime(now.Truncate(time.Second)), Accounts: accounts})
	}
	return kept
}
