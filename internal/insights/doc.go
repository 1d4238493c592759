// Package insights measures whether an organisation talks across its
// departments, from the metadata of messages alone: who sent one, when, in
// which room, and which message it answers. No message content reaches it.
//
// It is pure: Compute turns messages and the organisation's shape (which
// spaces declare whom, which rooms belong to which space) into figures per
// space and for the organisation. Every figure names the distinct people it
// rests on, and a figure resting on fewer than a minimum number of people is
// suppressed, so no figure says what one person or a handful did.
package insights
