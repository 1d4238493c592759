// Package fake is a chat.Client made of function fields, for controller unit tests
// that decide per test what the chat server answers (in the style of cert-manager's
// fake.Issuer). A method whose field is nil fails with an error naming it, so a
// test notices calls it did not expect.
package fake

import (
	"context"
	"fmt"

	"github.com/opencommons/collab-operator/internal/chat"
)

var _ chat.Client = &Client{}

// Client is a chat.Client whose methods call the matching function fields.
type Client struct {
	ObserveFn      func(ctx context.Context, aliasLocalpart string) (*chat.ObservedRoom, error)
	ObserveIDFn    func(ctx context.Context, roomID string) (*chat.ObservedRoom, error)
	ResolveAliasFn func(ctx context.Context, aliasLocalpart string) (string, error)
	SetAliasFn     func(ctx context.Context, aliasLocalpart, roomID string) error
	CreateFn       func(ctx context.Context, spec chat.RoomSpec) (*chat.ObservedRoom, error)
	UpdateFn       func(ctx context.Context, roomID string, actions []chat.Action) error
	ArchiveFn      func(ctx context.Context, roomID, parentSpaceID string) error
	DeleteFn       func(ctx context.Context, roomID string) error
	WhoamiFn       func(ctx context.Context) (string, error)
	VersionsFn     func(ctx context.Context) ([]string, error)
}

func unset(method string) error {
	return fmt.Errorf("fake chat client: %s called but %sFn is not set", method, method)
}

// Observe calls ObserveFn.
func (c *Client) Observe(ctx context.Context, aliasLocalpart string) (*chat.ObservedRoom, error) {
	if c.ObserveFn == nil {
		return nil, unset("Observe")
	}
	return c.ObserveFn(ctx, aliasLocalpart)
}

// ObserveID calls ObserveIDFn.
func (c *Client) ObserveID(ctx context.Context, roomID string) (*chat.ObservedRoom, error) {
	if c.ObserveIDFn == nil {
		return nil, unset("ObserveID")
	}
	return c.ObserveIDFn(ctx, roomID)
}

// ResolveAlias calls ResolveAliasFn.
func (c *Client) ResolveAlias(ctx context.Context, aliasLocalpart string) (string, error) {
	if c.ResolveAliasFn == nil {
		return "", unset("ResolveAlias")
	}
	return c.ResolveAliasFn(ctx, aliasLocalpart)
}

// SetAlias calls SetAliasFn.
func (c *Client) SetAlias(ctx context.Context, aliasLocalpart, roomID string) error {
	if c.SetAliasFn == nil {
		return unset("SetAlias")
	}
	return c.SetAliasFn(ctx, aliasLocalpart, roomID)
}

// Create calls CreateFn.
func (c *Client) Create(ctx context.Context, spec chat.RoomSpec) (*chat.ObservedRoom, error) {
	if c.CreateFn == nil {
		return nil, unset("Create")
	}
	return c.CreateFn(ctx, spec)
}

// Update calls UpdateFn.
func (c *Client) Update(ctx context.Context, roomID string, actions []chat.Action) error {
	if c.UpdateFn == nil {
		return unset("Update")
	}
	return c.UpdateFn(ctx, roomID, actions)
}

// Archive calls ArchiveFn.
func (c *Client) Archive(ctx context.Context, roomID, parentSpaceID string) error {
	if c.ArchiveFn == nil {
		return unset("Archive")
	}
	return c.ArchiveFn(ctx, roomID, parentSpaceID)
}

// Delete calls DeleteFn.
func (c *Client) Delete(ctx context.Context, roomID string) error {
	if c.DeleteFn == nil {
		return unset("Delete")
	}
	return c.DeleteFn(ctx, roomID)
}

// Whoami calls WhoamiFn.
func (c *Client) Whoami(ctx context.Context) (string, error) {
	if c.WhoamiFn == nil {
		return "", unset("Whoami")
	}
	return c.WhoamiFn(ctx)
}

// Versions calls VersionsFn.
func (c *Client) Versions(ctx context.Context) ([]string, error) {
	if c.VersionsFn == nil {
		return nil, unset("Versions")
	}
	return c.VersionsFn(ctx)
}
