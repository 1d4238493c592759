#!/usr/bin/env bash
# Installs what a fresh machine may lack to build and test the project: make, git, a
# C toolchain, OpenLDAP's slapd (with ldap-utils), Node.js with npm and Chromium (headless,
# for the HTML report's test) from Debian, the Go
# modules, and the real Matrix client library the client test drives (npm ci in
# test/client, pinned by its package-lock.json).
# Go itself must be installed (go.mod names the version).
#
# slapd is only ever run by the tests, make dev and the benchmark, as a child
# process on a loopback port with a generated configuration (internal/testing/slapd).
# Installing the package must not leave a system slapd running: if its postinst
# starts one, this script stops exactly that one again.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in make git gcc; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
# The HTML report's test renders it in a real headless browser.
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(npm)
slapd_bin=$(command -v slapd || true)
[ -n "$slapd_bin" ] || [ ! -x /usr/sbin/slapd ] || slapd_bin=/usr/sbin/slapd
if [ -z "$slapd_bin" ] || ! command -v ldapmodify >/dev/null 2>&1; then
  missing+=(slapd ldap-utils)
fi
for schema in core cosine inetorgperson nis; do
  [ -f "/etc/ldap/schema/$schema.schema" ] || { [[ " ${missing[*]} " == *" slapd "* ]] || missing+=(slapd); }
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} with apt-get" >&2
  # The system service's pid file, if one runs already: that one is not ours to stop.
  pidfile=/var/run/slapd/slapd.pid
  before=""
  [ -f "$pidfile" ] && before=$(cat "$pidfile" 2>/dev/null || true)
  apt-get update -qq
  # Answer the package's questions with their defaults; its database is not used.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  if [ -f "$pidfile" ]; then
    after=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$after" ] && [ "$after" != "$before" ] && kill -0 "$after" 2>/dev/null; then
      echo "Stopping the system slapd (pid $after) the package started; the tests run their own" >&2
      if [ -x /etc/init.d/slapd ]; then
        /etc/init.d/slapd stop >/dev/null 2>&1 || kill "$after" 2>/dev/null || true
      else
        kill "$after" 2>/dev/null || true
      fi
    fi
  fi
fi
command -v go >/dev/null 2>&1 || { echo "Go is required: see go.mod for the version" >&2; exit 1; }
go mod download

# test/client: matrix-js-sdk needs Node 20 or later. npm ci again only when the lock
# file changed since the last install (npm writes node_modules/.package-lock.json).
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "Node.js 20 or later is required for test/client (found $(node --version))" >&2; exit 1; }
lock=test/client/node_modules/.package-lock.json
if [ ! -f "$lock" ] || [ test/client/package-lock.json -nt "$lock" ]; then
  echo "Installing the client test's packages (npm ci in test/client)" >&2
  (cd test/client && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
