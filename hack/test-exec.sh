#!/usr/bin/env bash
# The -exec of hack/test.sh's go test: runs one test binary at a time, holding the
# lock file $COLLAB_TEST_LOCK, while go test links the next one beside it.
set -euo pipefail
exec flock "${COLLAB_TEST_LOCK:?set by hack/test.sh}" "$@"
