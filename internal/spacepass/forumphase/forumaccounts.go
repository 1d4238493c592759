package forumphase

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// forumAccounts remembers which usernames have an account on each forum, so a
// person without one is looked up again only every accountRecheck, not every
// poll, and is counted rather than planned as drift.
type forumAccounts struct {
	mu sync.Mutex
	// seen[forum][username] is when the account was found missing (zero: found).
	seen map[string]map[string]time.Time
	// byEmail[forum][email] is the username of the account with that address,
	// "" when none was found at checked[forum][email].
	byEmail map[string]map[string]string
	checked map[string]map[string]time.Time
}

// accountRecheck is how long a missing forum account is not looked up again.
const accountRecheck = 10 * time.Minute

var knownForumAccounts = &forumAccounts{seen: map[string]map[string]time.Time{}}

// forumPeople returns the resolved people who have an account on the forum;
// the others are counted in status.members.withoutForumAccount.
func (r *Phase) forumPeople(ctx context.Context, fc forum.Client, forumName string, s *scope.Scope) []forum.Person {
	people := s.ForumPeople()
	if len(people) == 0 {
		return nil
	}
	out := make([]forum.Person, 0, len(people))
	missing := 0
	for _, p := range people {
		switch {
		case knownForumAccounts.has(ctx, fc, forumName, p.Username):
			out = append(out, p)
		case s.Members.Emails[p.Username] != "":
			if name := knownForumAccounts.usernameOf(ctx, fc, forumName, s.Members.Emails[p.Username]); name != "" {
				out = append(out, forum.Person{Username: name, Role: p.Role})
				continue
			}
			missing++
		default:
			missing++
		}
	}
	s.Members.WithoutForum = missing
	return out
}

// usernameOf returns the forum username of the account registered with email,
// "" when there is none (looked up again only every accountRecheck).
func (a *forumAccounts) usernameOf(ctx context.Context, fc forum.Client, forumName, email string) string {
	a.mu.Lock()
	if a.byEmail == nil {
		a.byEmail, a.checked = map[string]map[string]string{}, map[string]map[string]time.Time{}
	}
	if a.byEmail[forumName] == nil {
		a.byEmail[forumName], a.checked[forumName] = map[string]string{}, map[string]time.Time{}
	}
	name, at := a.byEmail[forumName][email], a.checked[forumName][email]
	a.mu.Unlock()
	if name != "" || (!at.IsZero() && time.Since(at) < accountRecheck) {
		return name
	}
	name, err := fc.LookupEmail(ctx, email)
	if err != nil && !errors.Is(err, forum.ErrNotFound) {
		return "" // the forum cannot say: counted as without an account this pass
	}
	a.mu.Lock()
	a.byEmail[forumName][email], a.checked[forumName][email] = name, time.Now()
	a.mu.Unlock()
	return name
}

func (a *forumAccounts) has(ctx context.Context, fc forum.Client, forumName, username string) bool {
	a.mu.Lock()
	m := a.seen[forumName]
	if m == nil {
		m = map[string]time.Time{}
		a.seen[forumName] = m
	}
	at, known := m[username]
	a.mu.Unlock()
	if known && (at.IsZero() || time.Since(at) < accountRecheck) {
		return at.IsZero()
	}
	_, err := fc.LookupUser(ctx, username)
	switch {
	case err == nil:
		at = time.Time{}
	case errors.Is(err, forum.ErrNotFound):
		at = time.Now()
	default:
		return true // the forum cannot say: plan as if the account exists
	}
	a.mu.Lock()
	m[username] = at
	a.mu.Unlock()
	return at.IsZero()
}
