#!/usr/bin/env bash
# A real Temporal server (v1.29.1) on the machine's PostgreSQL, for reliability tests,
# benchmarks and anyone who wants more than `temporal server start-dev`.
#
#   scripts/temporal-server.sh build            # go install the server and its SQL schema tool
#   scripts/temporal-server.sh start [--dir D]  # databases, config, server, namespace, search attributes
#   scripts/temporal-server.sh stop|status|env  # SIGTERM (SIGKILL after a grace) / is it up / its address
#   scripts/temporal-server.sh reset            # stop it and drop its databases (also: start --reset)
#
# `start` prints TEMPORAL_ADDRESS=127.0.0.1:PORT as its last line, so `eval "$(... start | tail -n 1)"`
# works; a second `start` with the server up only prints that line.
#
# Environment (defaults in brackets):
#   IDFLOW_TEMPORAL_PG_HOST [127.0.0.1]  IDFLOW_TEMPORAL_PG_PORT [5432]  IDFLOW_TEMPORAL_PG_USER [postgres]
#   IDFLOW_TEMPORAL_PG_PASSWORD []       (the machine's PostgreSQL trusts local connections)
#   IDFLOW_TEMPORAL_DB [temporal_idflow]  IDFLOW_TEMPORAL_VISIBILITY_DB [temporal_idflow_visibility]
#   TEMPORAL_NAMESPACE [default]         TEMPORAL_CLI [.idflow/bin/temporal, else `temporal` on PATH]
#   IDFLOW_TEMPORAL_PORT [a free port]   IDFLOW_TEMPORAL_LOG_LEVEL [warn]
#   IDFLOW_TEMPORAL_START_TIMEOUT [120 s]  IDFLOW_TEMPORAL_STOP_GRACE [20 s]
#   IDFLOW_TEMPORAL_PG_MAX_CONNS [10]    (per service and store; the server holds up to 4 × (it + 2))
# A second server (another --dir) needs databases of its own: set both database names.
#
# Binaries land in .idflow/bin as `temporal-server` and `temporal-sql-tool` (beside the CLI,
# `temporal`); the server's config, pid file and log in .idflow/temporal-server/ (or --dir).
#
# Web UI: the Temporal CLI v1.5.1 embeds the Web UI only in `temporal server start-dev` (its one
# `server` command); nothing in it serves the UI for another server. `ui` builds the Web UI's own
# server (github.com/temporalio/ui-server v2.42.1, the version the CLI embeds) into
# .idflow/bin/temporal-ui-server once (about 2 minutes), points it at this server and prints
# TEMPORAL_UI=http://127.0.0.1:PORT (IDFLOW_TEMPORAL_UI_PORT, default 8080); `stop` stops it too.
#   scripts/temporal-server.sh ui [--dir D]
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SERVER_VERSION=v1.29.1
LOCAL_BIN="$ROOT/.idflow/bin"
SERVER_BIN="$LOCAL_BIN/temporal-server"
SQL_TOOL="$LOCAL_BIN/temporal-sql-tool"
STAMP="$LOCAL_BIN/.temporal-server.version"
UI_VERSION=v2.42.1
UI_BIN="$LOCAL_BIN/temporal-ui-server"
UI_STAMP="$LOCAL_BIN/.temporal-ui-server.version"

PG_HOST=${IDFLOW_TEMPORAL_PG_HOST:-127.0.0.1}
PG_PORT=${IDFLOW_TEMPORAL_PG_PORT:-5432}
PG_USER=${IDFLOW_TEMPORAL_PG_USER:-postgres}
PG_PASSWORD=${IDFLOW_TEMPORAL_PG_PASSWORD:-}
DB=${IDFLOW_TEMPORAL_DB:-temporal_idflow}
VISIBILITY_DB=${IDFLOW_TEMPORAL_VISIBILITY_DB:-temporal_idflow_visibility}
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
DIR="$ROOT/.idflow/temporal-server"

say() { printf '[temporal-server] %s\n' "$*" >&2; }
die() { printf '[temporal-server] error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- build -------------------------------------------------------------------------------------
built() {
  [ -x "$SERVER_BIN" ] && [ -x "$SQL_TOOL" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$SERVER_VERSION" ]
}

go_install() { # <package> <binary name in .idflow/bin> <log> [version]
  local pkg=$1 name=$2 log=$3 version=${4:-$SERVER_VERSION} tmp
  tmp=$(mktemp -d "$ROOT/.idflow/gobin.XXXXXX")
  # go install names a binary after its package directory (server, sql): build into a scratch
  # GOBIN, then move it to a name that cannot clash with the CLI's `temporal`.
  if ! GOTOOLCHAIN=local GOBIN="$tmp" go install -v "$pkg@$version" >>"$log" 2>&1; then
    rm -rf "$tmp"
    return 1
  fi
  mv "$tmp"/* "$LOCAL_BIN/$name"
  rm -rf "$tmp"
}

with_progress() { # <what> <log> <command…>: runs it in the background, reporting every 10 s
  local what=$1 log=$2 start=$SECONDS pid
  shift 2
  "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 10
    kill -0 "$pid" 2>/dev/null || break
    local downloads compiled
    downloads=$(grep -c '^go: downloading' "$log" || true)
    compiled=$(grep -vc '^go: ' "$log" || true)
    say "  … $((SECONDS - start))s: ${downloads} modules downloaded, ${compiled} packages compiled"
  done
  if ! wait "$pid"; then
    tail -n 20 "$log" >&2
    die "building $what failed (full log: $log)."
  fi
  say "$what built in $((SECONDS - start))s"
}

need_go() { # <what>
  command -v go >/dev/null 2>&1 || die "Go is not installed, and it builds $1.
  Install Go 1.24 or newer (https://go.dev/dl/) and run this again, or put a prebuilt binary in
  $LOCAL_BIN (see the names at the top of $0)."
}

build_server() {
  go_install go.temporal.io/server/cmd/server temporal-server "$1" &&
    go_install go.temporal.io/server/cmd/tools/sql temporal-sql-tool "$1"
}

cmd_build() {
  if built; then
    say "Temporal server ${SERVER_VERSION} up to date: $SERVER_BIN"
    return 0
  fi
  need_go "the Temporal server ${SERVER_VERSION}"
  mkdir -p "$LOCAL_BIN"
  local log="$ROOT/.idflow/temporal-server-build.log"
  : >"$log"
  say "building the Temporal server ${SERVER_VERSION} and its SQL tool with Go into .idflow/bin (first time: a few minutes)"
  with_progress "the Temporal server ${SERVER_VERSION}" "$log" build_server "$log"
  echo "$SERVER_VERSION" >"$STAMP"
}

# --- helpers -----------------------------------------------------------------------------------
find_cli() {
  if [ -n "${TEMPORAL_CLI:-}" ]; then
    [ -x "$TEMPORAL_CLI" ] || die "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file."
    echo "$TEMPORAL_CLI"
  elif [ -x "$LOCAL_BIN/temporal" ]; then
    echo "$LOCAL_BIN/temporal"
  elif command -v temporal >/dev/null 2>&1; then
    command -v temporal
  else
    die "the Temporal CLI (temporal) was not found; run scripts/setup.sh (it builds it into .idflow/bin) or set TEMPORAL_CLI."
  fi
}

sql_tool() { # <database> <sql tool command and flags…>
  local db=$1
  shift
  "$SQL_TOOL" --plugin postgres12 --endpoint "$PG_HOST" --port "$PG_PORT" --user "$PG_USER" \
    --password "$PG_PASSWORD" --database "$db" "$@"
}

pg_answers() { (exec 3<>"/dev/tcp/$PG_HOST/$PG_PORT") 2>/dev/null; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

server_pid() { # the pid of a live server started from $DIR, else nothing
  local pid
  [ -f "$DIR/server.pid" ] || return 0
  pid=$(cat "$DIR/server.pid")
  # alive, and still our server (not another process that got its id after a reboot)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "temporal-server --root $DIR "; then
    echo "$pid"
  fi
}

address() { cat "$DIR/address" 2>/dev/null || true; }

healthy() { # <cli> <address>
  "$1" operator cluster health --address "$2" --command-timeout 3s 2>/dev/null | grep -q SERVING
}

# --- databases ---------------------------------------------------------------------------------
schema_dir() { # <temporal|visibility>
  local mod
  mod="$(GOTOOLCHAIN=local go env GOMODCACHE 2>/dev/null || true)/go.temporal.io/server@${SERVER_VERSION}"
  echo "$mod/schema/postgresql/v12/$1/versioned"
}

prepare_database() { # <database> <temporal|visibility>
  local db=$1 kind=$2 out dir
  if ! out=$(sql_tool "$db" create --defaultdb postgres 2>&1); then
    grep -q 'already exists' <<<"$out" || die "creating database $db on $PG_HOST:$PG_PORT failed: $(tail -n 3 <<<"$out")"
  fi
  if ! out=$(sql_tool "$db" setup-schema -v 0.0 2>&1); then
    grep -q 'already exists' <<<"$out" || die "setting up the schema of $db failed: $(tail -n 3 <<<"$out")"
  fi
  dir=$(schema_dir "$kind")
  if [ -d "$dir" ]; then
    out=$(sql_tool "$db" update-schema -d "$dir" 2>&1) || die "updating the schema of $db failed: $(tail -n 3 <<<"$out")"
  else
    # the module is not in Go's module cache (binaries copied in): the tool's embedded schema
    out=$(sql_tool "$db" update-schema --schema-name "postgresql/v12/$kind" 2>&1) ||
      die "updating the schema of $db failed: $(tail -n 3 <<<"$out")"
  fi
}

drop_database() { # <database>
  local out
  if ! out=$(sql_tool "$1" drop --defaultdb postgres --force 2>&1); then
    grep -q 'does not exist' <<<"$out" || die "dropping database $1 failed: $(tail -n 3 <<<"$out")"
  fi
}

# --- config ------------------------------------------------------------------------------------
# Ten ports: frontend gRPC, membership and HTTP; history, matching and worker gRPC and membership;
# Prometheus metrics. A restart reuses the last ones while they are free (membership rows in the
# database name them); otherwise free ones are picked at random.
pick_ports() {
  local p all_free=1
  if [ -f "$DIR/ports" ]; then
    for p in $(cat "$DIR/ports"); do port_free "$p" || all_free=0; done
    if [ "$all_free" = 1 ]; then
      cat "$DIR/ports"
      return
    fi
  fi
  # below 32768: PostgreSQL keeps membership ports in a smallint column
  node -e '
    const net = require("node:net");
    const free = (port) => new Promise((ok) => {
      const s = net.createServer().once("error", () => ok(false));
      s.listen(port, "127.0.0.1", () => s.close(() => ok(true)));
    });
    (async () => {
      const ports = new Set();
      for (let tries = 0; ports.size < 10 && tries < 1000; tries++) {
        const port = 20000 + Math.floor(Math.random() * 12700);
        if (!ports.has(port) && (await free(port))) ports.add(port);
      }
      if (ports.size < 10) process.exit(1);
      console.log([...ports].join(" "));
    })();
  ' || die "could not find free ports on 127.0.0.1 (node is needed for that)."
}

write_config() { # <ten ports>
  local fe fem feh hi him ma mam wo wom metrics max_conns=${IDFLOW_TEMPORAL_PG_MAX_CONNS:-10}
  read -r fe fem feh hi him ma mam wo wom metrics <<<"$*"
  fe=${IDFLOW_TEMPORAL_PORT:-$fe}
  mkdir -p "$DIR/config"
  echo "$fe $fem $feh $hi $him $ma $mam $wo $wom $metrics" >"$DIR/ports"
  # After the module's config/development-postgres12.yaml: the machine's PostgreSQL and its
  # user, our databases, our ports, no archival, no pprof. Each of the four services holds its
  # own pools: at most 4 × (max_conns + 2) connections to PostgreSQL (48 by default).
  cat >"$DIR/config/development.yaml" <<YAML
log:
  stdout: true
  level: ${IDFLOW_TEMPORAL_LOG_LEVEL:-warn}

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
      sql:
        pluginName: "postgres12"
        databaseName: "$DB"
        connectAddr: "$PG_HOST:$PG_PORT"
        connectProtocol: "tcp"
        user: "$PG_USER"
        password: "$PG_PASSWORD"
        maxConns: $max_conns
        maxIdleConns: $max_conns
        maxConnLifetime: "1h"
    postgres-visibility:
      sql:
        pluginName: "postgres12"
        databaseName: "$VISIBILITY_DB"
        connectAddr: "$PG_HOST:$PG_PORT"
        connectProtocol: "tcp"
        user: "$PG_USER"
        password: "$PG_PASSWORD"
        maxConns: 2
        maxIdleConns: 2
        maxConnLifetime: "1h"

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:$metrics"

services:
  frontend:
    rpc: { grpcPort: $fe, membershipPort: $fem, httpPort: $feh, bindOnLocalHost: true }
  history:
    rpc: { grpcPort: $hi, membershipPort: $him, bindOnLocalHost: true }
  matching:
    rpc: { grpcPort: $ma, membershipPort: $mam, bindOnLocalHost: true }
  worker:
    rpc: { grpcPort: $wo, membershipPort: $wom, bindOnLocalHost: true }

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:$fe"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: "$DIR/config/dynamicconfig.yaml"
  pollInterval: "10s"
YAML
  # What src/temporal/dev-server.ts and the CLI's dev server turn on: eager activities, updates,
  # search attributes usable as soon as they are created; namespaces seen within a second or two.
  cat >"$DIR/config/dynamicconfig.yaml" <<'YAML'
system.enableActivityEagerExecution:
  - value: true
frontend.enableUpdateWorkflowExecution:
  - value: true
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
frontend.persistenceMaxQPS:
  - value: 10000
history.persistenceMaxQPS:
  - value: 45000
frontend.namespaceRPS.visibility:
  - value: 100
system.namespaceCacheRefreshInterval:
  - value: 2s
YAML
  echo "127.0.0.1:$fe" >"$DIR/address"
}

# --- namespace and search attributes -------------------------------------------------------------
# Name and type of each of idflow's search attributes: SEARCH_ATTRIBUTES in
# src/temporal/search-attributes.ts, one "Name Type" a line.
search_attributes() {
  (cd "$ROOT" && node --import tsx -e \
    "for (const [n, t] of require('./src/temporal/search-attributes').SEARCH_ATTRIBUTES) console.log(n, t)") ||
    die "reading SEARCH_ATTRIBUTES from src/temporal/search-attributes.ts failed (are node modules installed? scripts/setup.sh)."
}

register() { # <cli> <address>
  local cli=$1 addr=$2 existing name type args=()
  if ! "$cli" operator namespace describe -n "$NAMESPACE" --address "$addr" >/dev/null 2>&1; then
    say "registering namespace $NAMESPACE"
    "$cli" operator namespace create -n "$NAMESPACE" --retention 72h --address "$addr" >/dev/null ||
      die "registering namespace $NAMESPACE at $addr failed."
  fi
  # a new namespace reaches every service's cache within a few seconds
  for _ in $(seq 1 30); do
    existing=$("$cli" operator search-attribute list -n "$NAMESPACE" --address "$addr" 2>/dev/null) && break
    sleep 1
  done
  [ -n "${existing:-}" ] || die "namespace $NAMESPACE at $addr did not answer within 30 s (log: $DIR/server.log)."
  local wanted
  wanted=$(search_attributes)
  while read -r name type; do
    [ -n "$name" ] || continue
    grep -qw "$name" <<<"$existing" || args+=(--name "$name" --type "$type")
  done <<<"$wanted"
  if [ "${#args[@]}" -gt 0 ]; then
    say "registering search attributes:$(printf ' %s' "${args[@]}" | sed 's/ --type [A-Za-z]*//g; s/ --name//g')"
    "$cli" operator search-attribute create -n "$NAMESPACE" --address "$addr" "${args[@]}" >/dev/null ||
      die "registering idflow's search attributes in $NAMESPACE failed."
  fi
}

# --- commands ----------------------------------------------------------------------------------
cmd_start() {
  local cli pid addr start=$SECONDS
  cli=$(find_cli)
  pid=$(server_pid)
  addr=$(address)
  if [ -n "$pid" ] && [ -n "$addr" ] && healthy "$cli" "$addr"; then
    register "$cli" "$addr"
    echo "TEMPORAL_ADDRESS=$addr"
    return 0
  fi
  [ -z "$pid" ] || die "a Temporal server (pid $pid) from $DIR is running but does not answer at ${addr:-?}; run '$0 stop' first."
  cmd_build
  if [ -n "${IDFLOW_TEMPORAL_PORT:-}" ]; then
    port_free "$IDFLOW_TEMPORAL_PORT" ||
      die "port $IDFLOW_TEMPORAL_PORT (IDFLOW_TEMPORAL_PORT) is in use on 127.0.0.1; choose another or unset it."
  fi
  pg_answers || die "PostgreSQL is not answering on $PG_HOST:$PG_PORT; start it (e.g. pg_ctlcluster <version> main start) or set IDFLOW_TEMPORAL_PG_HOST/IDFLOW_TEMPORAL_PG_PORT."
  mkdir -p "$DIR"
  say "preparing databases $DB and $VISIBILITY_DB on $PG_HOST:$PG_PORT"
  prepare_database "$DB" temporal
  prepare_database "$VISIBILITY_DB" visibility
  write_config "$(pick_ports)"
  addr=$(address)
  say "starting the Temporal server ${SERVER_VERSION} at $addr (log: $DIR/server.log)"
  local log_from
  log_from=$(($(stat -c %s "$DIR/server.log" 2>/dev/null || echo 0) + 1))
  setsid "$SERVER_BIN" --root "$DIR" --config config --env development --allow-no-auth start \
    >>"$DIR/server.log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$DIR/server.pid"
  local launched=$SECONDS deadline=$((SECONDS + ${IDFLOW_TEMPORAL_START_TIMEOUT:-120}))
  until healthy "$cli" "$addr"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$DIR/server.pid"
      tail -c +"$log_from" "$DIR/server.log" | tail -n 5 | cut -c 1-400 >&2
      grep -q 'address already in use' "$DIR/server.log" &&
        die "the Temporal server exited: one of its ports ($(cat "$DIR/ports")) was taken; run start again (full log: $DIR/server.log)."
      die "the Temporal server exited before it answered (full log: $DIR/server.log)."
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "the Temporal server did not answer at $addr within ${IDFLOW_TEMPORAL_START_TIMEOUT:-120} s (log: $DIR/server.log); '$0 stop' ends it."
    sleep 1
  done
  local answered=$((SECONDS - launched))
  register "$cli" "$addr"
  say "Temporal server up in $((SECONDS - start))s, answering ${answered}s after launch (pid $pid)"
  echo "TEMPORAL_ADDRESS=$addr"
}

cmd_stop() {
  local pid
  pid=$(ui_pid)
  [ -z "$pid" ] || stop_pid "$pid" "the Web UI server"
  rm -f "$DIR/ui.pid"
  pid=$(server_pid)
  if [ -z "$pid" ]; then
    rm -f "$DIR/server.pid"
    say "not running"
    return 0
  fi
  stop_pid "$pid" "the Temporal server"
  rm -f "$DIR/server.pid"
}

cmd_status() {
  local pid addr
  pid=$(server_pid)
  addr=$(address)
  if [ -z "$pid" ]; then
    echo "not running"
    return 3
  fi
  if healthy "$(find_cli)" "$addr"; then
    echo "running (pid $pid) at $addr"
  else
    echo "running (pid $pid) but not answering at $addr"
    return 1
  fi
}

cmd_env() {
  [ -n "$(server_pid)" ] || die "no Temporal server is running from $DIR; run '$0 start'."
  echo "TEMPORAL_ADDRESS=$(address)"
}

ui_pid() {
  local pid
  [ -f "$DIR/ui.pid" ] || return 0
  pid=$(cat "$DIR/ui.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

cmd_ui() {
  local addr pid port=${IDFLOW_TEMPORAL_UI_PORT:-8080} log
  [ -n "$(server_pid)" ] || die "no Temporal server is running from $DIR; run '$0 start' first."
  addr=$(address)
  pid=$(ui_pid)
  if [ -n "$pid" ]; then
    echo "TEMPORAL_UI=$(cat "$DIR/ui.url")"
    return 0
  fi
  if ! [ -x "$UI_BIN" ] || [ "$(cat "$UI_STAMP" 2>/dev/null)" != "$UI_VERSION" ]; then
    need_go "the Temporal Web UI server ${UI_VERSION}"
    log="$ROOT/.idflow/temporal-ui-build.log"
    : >"$log"
    say "building the Temporal Web UI server ${UI_VERSION} with Go into .idflow/bin (first time: about 2 minutes)"
    with_progress "the Temporal Web UI server ${UI_VERSION}" "$log" \
      go_install github.com/temporalio/ui-server/v2/cmd/server temporal-ui-server "$log" "$UI_VERSION"
    echo "$UI_VERSION" >"$UI_STAMP"
  fi
  port_free "$port" || die "port $port is in use on 127.0.0.1; set IDFLOW_TEMPORAL_UI_PORT to a free one."
  mkdir -p "$DIR/ui/config"
  cat >"$DIR/ui/config/development.yaml" <<YAML
temporalGrpcAddress: $addr
host: 127.0.0.1
port: $port
enableUi: true
defaultNamespace: $NAMESPACE
cors:
  allowOrigins:
    - http://127.0.0.1:$port
    - http://localhost:$port
YAML
  setsid "$UI_BIN" --root "$DIR/ui" --config config --env development start >>"$DIR/ui.log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$DIR/ui.pid"
  echo "http://127.0.0.1:$port" >"$DIR/ui.url"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$DIR/ui.pid"; tail -n 5 "$DIR/ui.log" >&2; die "the Web UI server exited (log: $DIR/ui.log)."; }
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.5
  done
  say "Web UI for $addr (pid $pid, log: $DIR/ui.log)"
  echo "TEMPORAL_UI=http://127.0.0.1:$port"
}

stop_pid() { # <pid> <what>
  local pid=$1 grace=${IDFLOW_TEMPORAL_STOP_GRACE:-20}
  say "stopping $2 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((grace * 5))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  say "still running after ${grace}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
}

cmd_reset() {
  cmd_stop
  [ -x "$SQL_TOOL" ] || die "$SQL_TOOL is missing; run '$0 build'."
  pg_answers || die "PostgreSQL is not answering on $PG_HOST:$PG_PORT."
  say "dropping databases $DB and $VISIBILITY_DB"
  drop_database "$DB"
  drop_database "$VISIBILITY_DB"
}

command=${1:-}
[ $# -eq 0 ] || shift
reset=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir)
      [ $# -ge 2 ] || die "--dir needs a directory."
      mkdir -p "$2"
      DIR=$(cd "$2" && pwd)
      shift 2
      ;;
    --reset) reset=1 && shift ;;
    *) die "unknown option '$1' (see '$0 help')." ;;
  esac
done

# one start, stop or reset at a time per directory: two callers starting at once get one server
lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock 9
}

case "$command" in
  start | stop | reset | ui) lock ;;
esac
case "$command" in
  build) cmd_build ;;
  start)
    [ "$reset" = 0 ] || cmd_reset
    cmd_start
    ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  ui) cmd_ui ;;
  reset) cmd_reset ;;
  '' | help | -h | --help) usage ;;
  *) say "unknown command '$command'" && usage ;;
esac
