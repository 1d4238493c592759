// Package chat is the vocabulary the CollaborationSpace controller uses to keep a
// department's chat rooms true: the desired state of a room (RoomSpec), what the
// chat server holds (ObservedRoom), the changes that turn one into the other
// (Action), and the small idempotent Client that reads and applies them.
//
// The split follows crossplane-runtime's external clients. Observe only reads, so a
// pass that finds nothing to change makes no write to the chat server; the pure
// package chatplan decides what to change; Create, Update, Archive and Delete write.
// Implementations live in sub-packages (matrix) so the controller depends on this
// interface, and its unit tests on package fake, never on a server.
package chat
