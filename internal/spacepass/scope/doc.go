// Package scope is what every phase of a space's pass shares and nothing in it
// is a phase: the Scope (the space as read and as being changed, and what the
// phases learned), the Kit of dependencies (the API server, the events a pass
// announces once, where credentials are read), the objects a space owns and
// what each deletion policy does with them, the member resolution with its
// removal budget (written by package memberphase, asked by the chat and forum
// phases before every removal), and the clock of when each server last
// answered, by which a converged space rides over a passing fault.
package scope
