// Package chat is the vocabulary the CollaborationSpace controller uses to keep a
// department's chat rooms true: the desired state of a room (RoomSpec), what the
// chat server holds (ObservedRoom), the changes that turn one into the other
// (Action), the small idempotent Client that reads and applies them, and the
// Planner that maps a space onto rooms and decides the changes.
//
// The split follows crossplane-runtime's external clients. Observe only reads, so a
// pass that finds nothing to change makes no write to the chat server; the pure
// Planner decides what to change; Create, Update, Archive and Delete write.
// Engines live in sub-packages (matrix, and its planner matrix/plan) and reach the
// controllers through their connector, so the controllers depend on these
// interfaces and engine-neutral input only, and their unit tests on package fake,
// never on a server.
package chat
