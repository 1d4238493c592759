// Package chatphase is the phase of a space's pass that owns ChatReady and
// Drifted: the department's chat space and rooms, found or created exactly
// once, converged in as few requests as the server allows, shared with the
// departments the spec names, and retired by the deletion policy. A pass a
// passing fault cut off resumes from its Checkpoints while the chat server's
// stream of changes (ChangeFeed) vouches that nothing changed meanwhile.
package chatphase
