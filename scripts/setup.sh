#!/usr/bin/env bash
# Idempotent setup used by `npm start`, `npm test` and .ci/run:
#   1. Node dependencies (npm ci, skipped when node_modules matches package-lock.json);
#   2. the Temporal CLI (dev server + Web UI): $TEMPORAL_CLI, else `temporal` on PATH, else
#      .idflow/bin/temporal, else built from the Go module proxy into .idflow/bin;
#   3. a real Temporal server on PostgreSQL for the reliability tests (scripts/temporal-server.sh
#      build: built once with Go into .idflow/bin; skipped with a warning when Go is missing);
#   4. slapd (OpenLDAP) for the LDAP tests and targets, from Debian's packages when run as root.
# Safe to run any number of times; a second run takes about a second.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TEMPORAL_VERSION=v1.5.1
LOCAL_BIN="$ROOT/.idflow/bin"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# --- Node ------------------------------------------------------------------------------------
command -v node >/dev/null || die "Node.js 20.19 or newer is required (https://nodejs.org); 'node' is not on PATH."
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  die "Node.js 20.19 or newer is required; found $(node --version)."

lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.idflow-lock.sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
  say "node modules up to date"
else
  say "installing node modules (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$stamp"
fi

# --- Temporal CLI ------------------------------------------------------------------------------
find_temporal() {
  if [ -n "${TEMPORAL_CLI:-}" ]; then
    [ -x "$TEMPORAL_CLI" ] || die "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file."
    echo "$TEMPORAL_CLI"
  elif [ -x "$LOCAL_BIN/temporal" ]; then
    echo "$LOCAL_BIN/temporal"
  elif command -v temporal >/dev/null 2>&1; then
    command -v temporal
  fi
}

build_temporal() {
  command -v go >/dev/null 2>&1 || die "the Temporal CLI was not found and Go is not installed to build it.
  Install one of:
    - the Temporal CLI ${TEMPORAL_VERSION} (https://docs.temporal.io/cli#install) and put 'temporal' on PATH
      or set TEMPORAL_CLI=/path/to/temporal;
    - Go 1.24 or newer (https://go.dev/dl/), then run this script again: it builds the CLI into .idflow/bin."
  mkdir -p "$LOCAL_BIN"
  local log="$ROOT/.idflow/temporal-build.log"
  say "building the Temporal CLI ${TEMPORAL_VERSION} with Go into .idflow/bin (first time: about 3 minutes)"
  local start=$SECONDS
  (GOTOOLCHAIN=local GOBIN="$LOCAL_BIN" go install -v "github.com/temporalio/cli/cmd/temporal@${TEMPORAL_VERSION}" >"$log" 2>&1) &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 10
    kill -0 "$pid" 2>/dev/null || break
    local downloads built
    downloads=$(grep -c '^go: downloading' "$log" || true)
    built=$(grep -vc '^go: ' "$log" || true)
    say "  … $((SECONDS - start))s: ${downloads} modules downloaded, ${built} packages compiled"
  done
  if ! wait "$pid"; then
    tail -n 20 "$log" >&2
    die "building the Temporal CLI failed (full log: $log)."
  fi
  say "Temporal CLI built in $((SECONDS - start))s"
}

temporal_bin=$(find_temporal)
if [ -z "$temporal_bin" ]; then
  build_temporal
  temporal_bin="$LOCAL_BIN/temporal"
fi
say "Temporal CLI: $temporal_bin ($("$temporal_bin" --version 2>/dev/null | head -n 1))"

# --- A real Temporal server ----------------------------------------------------------------------
# test/integration/real-server.test.ts runs idflow on it; building it here pays the minutes once.
if command -v go >/dev/null 2>&1; then
  bash scripts/temporal-server.sh build 2>&1 | sed 's/^\[temporal-server\]/[setup]/'
else
  say "warning: Go is not installed, so the real Temporal server (scripts/temporal-server.sh) is not built; test/integration/real-server.test.ts needs it"
fi

# 4. OpenLDAP's slapd: the local directory the ldap connector's tests and
#    `idflow dev --with-targets` run. Installed from Debian's packages when we may.
if [ ! -x /usr/sbin/slapd ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing slapd and ldap-utils (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slapd ldap-utils >"$ROOT/.idflow/apt.log" 2>&1 \
      || { apt-get update -q >>"$ROOT/.idflow/apt.log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q slapd ldap-utils >>"$ROOT/.idflow/apt.log" 2>&1; } \
      || die "installing slapd failed (log: $ROOT/.idflow/apt.log)"
  else
    say "warning: slapd is not installed; the LDAP tests and 'idflow dev --with-targets' need it: sudo apt-get install slapd ldap-utils"
  fi
fi
[ -x /usr/sbin/slapd ] && say "slapd: /usr/sbin/slapd"
true
