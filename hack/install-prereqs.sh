#!/usr/bin/env bash
# Installs what a fresh machine may lack to build and test the project: make, git and
# a C toolchain from Debian, and the Go modules. Go itself must be installed
# (go.mod names the version).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in make git gcc; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
command -v go >/dev/null 2>&1 || { echo "Go is required: see go.mod for the version" >&2; exit 1; }
go mod download
