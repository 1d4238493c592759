// Package memberphase is the first and the last phase of a space's pass: it
// resolves the space's Group members through its PeopleDirectory (bounded by
// the policies' people limit) before the chat and forum phases project them,
// and afterwards records in status.members what those phases removed and held
// back, and sets MembersReady.
package memberphase
