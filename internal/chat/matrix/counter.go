package matrix

import "github.com/opencommons/collab-operator/internal/reqobserve"

// Counter counts the client's reads and writes; see reqobserve.Counter.
type Counter = reqobserve.Counter
