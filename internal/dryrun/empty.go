package dryrun

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/forum"
)

// errEmptyWrite: the empty backends are only ever wrapped by Chat and Forum,
// which record writes instead of passing them on.
var errEmptyWrite = errors.New("dry run: an empty backend takes no writes")

// EmptyChat is a chat server that holds nothing yet: a plan uses it for a
// backend the operator has made nothing on (one that only the files name, or
// whose credentials the plan may not read, for a space that is new), so that
// every room plans as a creation. Self is the operator's account as the plan
// shows it.
type EmptyChat struct{ Self string }

var _ chat.Client = EmptyChat{}

// Observe finds no room.
func (EmptyChat) Observe(context.Context, string) (*chat.ObservedRoom, error) { return nil, nil }

// ObserveID finds no room.
func (EmptyChat) ObserveID(_ context.Context, id string) (*chat.ObservedRoom, error) {
	return nil, fmt.Errorf("room %s: %w", id, chat.ErrNotFound)
}

// ResolveAlias knows no alias.
func (EmptyChat) ResolveAlias(context.Context, string) (string, error) { return "", nil }

// SetAlias takes no writes.
func (EmptyChat) SetAlias(context.Context, string, string) error { return errEmptyWrite }

// Create takes no writes.
func (EmptyChat) Create(context.Context, chat.RoomSpec) (*chat.ObservedRoom, error) {
	return nil, errEmptyWrite
}

// Update takes no writes.
func (EmptyChat) Update(context.Context, string, []chat.Action) error { return errEmptyWrite }

// Archive takes no writes.
func (EmptyChat) Archive(context.Context, string, string) error { return errEmptyWrite }

// Delete takes no writes.
func (EmptyChat) Delete(context.Context, string) error { return errEmptyWrite }

// Whoami is Self.
func (e EmptyChat) Whoami(context.Context) (string, error) { return e.Self, nil }

// Versions is none.
func (EmptyChat) Versions(context.Context) ([]string, error) { return nil, nil }

// EmptyForum is a forum that holds nothing the operator made yet: a deployed
// forum that is not running, or a ForumBackend only the files name. Every group
// and category plans as a creation; nobody has an account, so members wait for
// theirs as on a new forum. Self is the account the operator acts as.
type EmptyForum struct{ Self forum.Self }

var _ forum.Client = EmptyForum{}

// ObserveCategory finds none.
func (EmptyForum) ObserveCategory(context.Context, int64, int64, string) (*forum.ObservedCategory, error) {
	return nil, nil
}

// CreateCategory takes no writes.
func (EmptyForum) CreateCategory(context.Context, forum.CategorySpec) (*forum.ObservedCategory, error) {
	return nil, errEmptyWrite
}

// UpdateCategory takes no writes.
func (EmptyForum) UpdateCategory(context.Context, int64, []forum.CategoryAction) error {
	return errEmptyWrite
}

// DisableCategory takes no writes.
func (EmptyForum) DisableCategory(context.Context, int64) error { return errEmptyWrite }

// DeleteCategory takes no writes.
func (EmptyForum) DeleteCategory(context.Context, int64) error { return errEmptyWrite }

// ObserveGroup finds none.
func (EmptyForum) ObserveGroup(context.Context, string) (*forum.ObservedGroup, error) {
	return nil, nil
}

// CreateGroup takes no writes.
func (EmptyForum) CreateGroup(context.Context, forum.GroupSpec) (*forum.ObservedGroup, error) {
	return nil, errEmptyWrite
}

// UpdateGroup takes no writes.
func (EmptyForum) UpdateGroup(context.Context, string, []forum.GroupAction) error {
	return errEmptyWrite
}

// DeleteGroup takes no writes.
func (EmptyForum) DeleteGroup(context.Context, string) error { return errEmptyWrite }

// LookupUser finds nobody.
func (EmptyForum) LookupUser(_ context.Context, username string) (int64, error) {
	return 0, fmt.Errorf("user %s: %w", username, forum.ErrNotFound)
}

// LookupEmail finds nobody.
func (EmptyForum) LookupEmail(context.Context, string) (string, error) {
	return "", fmt.Errorf("e-mail address: %w", forum.ErrNotFound)
}

// Ping is Self.
func (e EmptyForum) Ping(context.Context) (forum.Self, error) { return e.Self, nil }

// Version is unknown.
func (EmptyForum) Version(context.Context) (string, error) { return "", nil }

// Proof stands for the tag the operator's credentials would give.
func (EmptyForum) Proof(string) string { return "(proof)" }
