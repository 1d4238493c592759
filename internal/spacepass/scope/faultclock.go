package scope

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// AnswerClock remembers, per space and phase condition, when the phase's server
// last answered a pass. A server that answers part of every pass — a storm of
// 429s and 502s — is not down: the space is still checked, pass after pass, so
// the fault a converged space rides over is under way only since the server
// last answered, not since the last pass without any fault. It lives in memory:
// after a restart the clock falls back to when Reconciling turned True.
type AnswerClock struct {
	mu sync.Mutex
	at map[answerKey]time.Time
}

type answerKey struct {
	space     types.NamespacedName
	condition string
}

// Heard records that the phase's server answered at t.
func (c *AnswerClock) Heard(space types.NamespacedName, condition string, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == nil {
		c.at = map[answerKey]time.Time{}
	}
	c.at[answerKey{space, condition}] = t
}

// Last is when the phase's server last answered; zero when unknown.
func (c *AnswerClock) Last(space types.NamespacedName, condition string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at[answerKey{space, condition}]
}

// Forget drops a space that is gone.
func (c *AnswerClock) Forget(space types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.at {
		if k.space == space {
			delete(c.at, k)
		}
	}
}

// faultUnderWay is how long a fault has lasted at now: since Reconciling turned
// True (reconcilingSince, zero when it is not True), or since the server last
// answered when that is later. A fault that has just begun has lasted 0.
func faultUnderWay(now, reconcilingSince, lastAnswer time.Time) time.Duration {
	since := now
	if !reconcilingSince.IsZero() {
		since = reconcilingSince
	}
	if lastAnswer.After(since) {
		since = lastAnswer
	}
	return max(now.Sub(since), 0)
}
