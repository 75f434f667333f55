#!/usr/bin/env bash
# Starts and stops the DynamoDB-compatible peers Shoal is compared with (`make bench-compare`),
# each on this machine with its fastest documented settings:
#
#   scripts/peers.sh start   PEER PORT   # installs PEER if needed, returns once it answers
#   scripts/peers.sh stop    PEER PORT
#   scripts/peers.sh status  PEER PORT
#   scripts/peers.sh install PEER        # only install (idempotent; start does it when needed)
#   scripts/peers.sh version PEER        # the installed version
#
# PEER is one of:
#   dynamodb-local  Amazon's emulator, fetched (Maven Central, into .cache/dynamodb-local/) and
#                   run by scripts/dynamodb-local.sh, its files under .run/ddb-local/: -inMemory
#                   (no SQLite file on disk) and -sharedDb (one database for every credential /
#                   region, so no per-client database is opened), -disableTelemetry; never
#                   -delayTransientStatuses (it adds delays). AWS documents no JVM tuning; we
#                   give it a fixed 1 GB heap (-Xms1g -Xmx1g: no heap growth and less GC under
#                   load) and keep the JVM's default GC. Override: PEERS_DDB_LOCAL_JAVA_OPTS.
#   dynalite        Node.js (npm `dynalite`, into .cache/peers/dynalite), in memory (no
#                   --path), --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 so tables
#                   are ACTIVE at once. Version: PEERS_DYNALITE_VERSION (default: latest).
#   moto            Python (PyPI `moto[dynamodb,server]` in a venv under .cache/peers/moto),
#                   `moto_server` (Werkzeug, threaded: a thread per request). Version:
#                   PEERS_MOTO_VERSION (default: latest).
#
# PID files and logs: .run/peers/PEER-PORT.{pid,log}. Needs java + mvn (dynamodb-local), node +
# npm (dynalite), python3 with venv (moto); Debian nodejs/npm are installed when missing.
set -euo pipefail
# shellcheck source=lib/daemon.sh
source "$(dirname "$0")/lib/daemon.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE="$ROOT/.cache/peers"
RUN="$ROOT/.run/peers"
DDB_LOCAL_VERSION=${DDB_LOCAL_VERSION:-3.3.1}
PYTHON=${PYTHON:-python3}

usage() { echo "usage: $0 start|stop|status PEER PORT | install|version PEER  (PEER: dynamodb-local|dynalite|moto)" >&2; exit 2; }

CMD=${1:-}; PEER=${2:-}; PORT=${3:-}
[ -n "$CMD" ] && [ -n "$PEER" ] || usage
case "$PEER" in dynamodb-local|dynalite|moto) ;; *) echo "peers: unknown peer '$PEER'" >&2; usage ;; esac
case "$CMD" in start|stop|status) [ -n "$PORT" ] || usage ;; esac
PIDFILE="$RUN/$PEER-$PORT.pid"
LOG="$RUN/$PEER-$PORT.log"
if [ "$PEER" = dynamodb-local ]; then  # started by scripts/dynamodb-local.sh, with its files
  PIDFILE="$ROOT/.run/ddb-local/ddb-local-$PORT.pid"
  LOG="$ROOT/.run/ddb-local/ddb-local-$PORT.log"
fi

ensure_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then return; fi
  echo "peers: node/npm missing; installing Debian nodejs npm" >&2
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
}

install_peer() {
  case "$PEER" in
    dynamodb-local)
      command -v java >/dev/null || { echo "peers: java missing (run make deps)" >&2; exit 1; }
      bash "$ROOT/scripts/dynamodb-local.sh" fetch >&2 ;;
    dynalite)
      local dir="$CACHE/dynalite"
      [ -f "$dir/.complete" ] && [ -f "$dir/node_modules/dynalite/cli.js" ] && return
      ensure_node
      mkdir -p "$dir"
      echo "peers: npm install dynalite${PEERS_DYNALITE_VERSION:+@$PEERS_DYNALITE_VERSION} into $dir" >&2
      [ -f "$dir/package.json" ] || echo '{"name":"shoal-peers-dynalite","private":true}' >"$dir/package.json"
      (cd "$dir" && npm install --no-audit --no-fund --loglevel=error \
         "dynalite${PEERS_DYNALITE_VERSION:+@$PEERS_DYNALITE_VERSION}" >&2)
      touch "$dir/.complete" ;;
    moto)
      local venv="$CACHE/moto/venv"
      [ -f "$CACHE/moto/.complete" ] && [ -x "$venv/bin/moto_server" ] && return
      mkdir -p "$CACHE/moto"
      echo "peers: pip install moto[dynamodb,server] into $venv" >&2
      [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
      "$venv/bin/pip" install -q --disable-pip-version-check \
        "moto[dynamodb,server]${PEERS_MOTO_VERSION:+==$PEERS_MOTO_VERSION}" >&2
      touch "$CACHE/moto/.complete" ;;
  esac
}

version() {
  case "$PEER" in
    dynamodb-local) echo "DynamoDB Local $DDB_LOCAL_VERSION ($(java -version 2>&1 | head -n 1))" ;;
    dynalite)
      local v; v=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$CACHE/dynalite/node_modules/dynalite/package.json" | head -n 1)
      echo "dynalite $v (node $(node --version))" ;;
    moto)
      local v; v=$("$CACHE/moto/venv/bin/python" -c 'import moto, werkzeug, sys; from importlib.metadata import version as V; print(moto.__version__, "(werkzeug", V("werkzeug") + ", python", sys.version.split()[0] + ")")')
      echo "moto $v" ;;
  esac
}

running() { daemon_running "$PIDFILE"; }

start() {
  install_peer
  mkdir -p "$RUN"
  if [ "$PEER" = dynamodb-local ]; then
    DDB_LOCAL_JAVA_OPTS=${PEERS_DDB_LOCAL_JAVA_OPTS:--Xms1g -Xmx1g} \
      DDB_LOCAL_VERSION=$DDB_LOCAL_VERSION bash "$ROOT/scripts/dynamodb-local.sh" start "$PORT"
    return
  fi
  if running; then echo "peers: $PEER already running on :$PORT (pid $(cat "$PIDFILE"))"; return; fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "peers: port $PORT is already in use (address already in use)" >&2; exit 1
  fi
  : >"$LOG"
  case "$PEER" in
    dynalite)
      nohup node "$CACHE/dynalite/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$PORT" \
        --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >>"$LOG" 2>&1 &
      ;;
    moto)
      nohup "$CACHE/moto/venv/bin/moto_server" -H 127.0.0.1 -p "$PORT" >>"$LOG" 2>&1 &
      ;;
  esac
  echo $! >"$PIDFILE"
  daemon_wait_up "peers: $PEER" "$PORT" "$PIDFILE" "$LOG"
  echo "peers: $(version) up at http://127.0.0.1:$PORT (pid $(cat "$PIDFILE"), log $LOG)"
}

stop() {
  daemon_stop "$PIDFILE"
  echo "peers: $PEER stopped (:$PORT)"
}

status() {
  if running; then echo "$PEER: running on :$PORT (pid $(cat "$PIDFILE"))"; else echo "$PEER: stopped (:$PORT)"; return 3; fi
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  install) install_peer ;;
  version) version ;;
  *) usage ;;
esac
