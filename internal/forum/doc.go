// Package forum is the vocabulary the CollaborationSpace controller uses to keep a
// department's forum true: the desired state of a category and of a group
// (CategorySpec, GroupSpec), what the forum holds (ObservedCategory,
// ObservedGroup), the changes that turn one into the other (CategoryAction,
// GroupAction), the small idempotent Client that reads and applies them, and the
// pure Planner that decides them; Login and Token are what a connector mints the
// operator's API token of a forum it deployed with.
//
// It mirrors package chat and crossplane-runtime's external clients: Observe*
// only reads, so a pass that finds nothing to change makes no write to the forum;
// the engine's Planner decides what to change; Create*, Update*, Disable* and
// Delete* write. The NodeBB implementation lives in package nodebb (its planner
// in nodebb/plan), and an in-memory NodeBB stand-in for tests and `make dev` in
// package fake, so the controller depends on these interfaces, never on a
// server or an engine.
//
// Not engine-neutral yet: the model is NodeBB-shaped. The privilege names
// (Priv*, CorePrivileges) and built-in groups (Group*) in types.go are NodeBB's,
// and so are the group settings a plan keeps (private, join requests disabled);
// a second engine maps its own notions onto them in its Client and Planner.
//
// Identity: a category is found by the id the controller stored in the
// CollaborationSpace's status and, when that id is gone or was never recorded
// (a crash between create and status write), re-found by its name under its
// parent category. Inside a deployed forum the parent is the forum's root; in a
// shared forum it is the space's own department category, named after the
// space's namespace and name, so the pair (parent, name) belongs to one space.
// Groups are found by name, which NodeBB keeps unique. In a shared forum the
// controller also checks that what it found is the space's own (an id from
// status under the space's department category; a group its own account owns,
// ObservedGroup.OwnedBy, and that it recorded or that carries the proof
// Client.Proof lets it write, a public tag that alone proves nothing): see
// Planner, NodeBB's rules in package nodebb/plan, and
// controllers/forumcontent.go.
package forum
