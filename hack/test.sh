#!/usr/bin/env bash
# `make test`: unit tests and integration tests on a real kube-apiserver + etcd and a
# real Dendrite homeserver, and the fault drills with their short windows. `make
# drills`: the drills alone, with their long soak windows (COLLAB_DRILLS=soak). The
# binaries are built once per machine into a cache (hack/local-bins.sh); later runs
# reuse them.
set -euo pipefail
cd "$(dirname "$0")/.."

# What a fresh machine lacks (slapd for the directory tests, the Go modules): a
# no-op when it is all there.
hack/install-prereqs.sh
hack/local-bins.sh envtest
hack/local-bins.sh dendrite
hack/local-bins.sh helm
KUBEBUILDER_ASSETS=$(hack/local-bins.sh path envtest)
DENDRITE_BIN_DIR=$(hack/local-bins.sh path dendrite)
export KUBEBUILDER_ASSETS DENDRITE_BIN_DIR

# Two cores: one test binary runs at a time, which keeps the API server and Dendrite
# responsive, while go test links the next one beside it (-p 2): hack/test-exec.sh
# makes each binary wait its turn. Linking a test binary takes 3-7 s, about 140 s
# for all of them one after another. The time go test prints for a package includes
# its wait for the one before. TEST_PACKAGES narrows the run (`make drills` runs
# ./test/drills/ alone).
COLLAB_TEST_LOCK=$(mktemp)
export COLLAB_TEST_LOCK
trap 'rm -f "$COLLAB_TEST_LOCK"' EXIT
# shellcheck disable=SC2086 # a list of packages
go test ${TEST_PACKAGES:-./...} -count=1 -p 2 -exec "$PWD/hack/test-exec.sh" -timeout 30m "$@"
