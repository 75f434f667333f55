#!/usr/bin/env bash
# Starts and stops a local Shoal fleet: nats-server (JetStream), metadata, three storage
# nodes in zones a/b/c, and the router. Everything lives under $SHOAL_RUN_DIR.
#
#   scripts/fleet.sh start|stop|status
#   scripts/fleet.sh kill-node N      # kill -9 storage node N (1..3)
#   scripts/fleet.sh start-node N     # (re)start storage node N
#   scripts/fleet.sh pause-node N     # SIGSTOP storage node N (alive but silent)
#   scripts/fleet.sh resume-node N    # SIGCONT it
#
# Settings (environment): SHOAL_RUN_DIR (.run), SHOAL_BUILD_DIR (build), SHOAL_NATS_PORT
# (4222), SHOAL_PORT (router, 8000), SHOAL_ADMIN_BASE (9100: router +0, metadata +1, storage
# node N +10+N), SHOAL_PARTITIONS (2), SHOAL_LOG_LEVEL (info); the services themselves read
# SHOAL_AUTH (verify|any, router) and SHOAL_ACCESS_KEYS (ID:SECRET,..., metadata; default
# shoal:shoal-secret).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=${SHOAL_RUN_DIR:-$ROOT/.run}
BUILD=${SHOAL_BUILD_DIR:-$ROOT/build}
NATS_PORT=${SHOAL_NATS_PORT:-4222}
PORT=${SHOAL_PORT:-8000}
ADMIN=${SHOAL_ADMIN_BASE:-9100}
PARTITIONS=${SHOAL_PARTITIONS:-2}
LEVEL=${SHOAL_LOG_LEVEL:-info}
NATS_URL="nats://127.0.0.1:$NATS_PORT"
ZONES=(zone-a zone-b zone-c)

mkdir -p "$RUN/logs" "$RUN/pids"

pidfile() { echo "$RUN/pids/$1.pid"; }

running() {
  local f; f=$(pidfile "$1")
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

launch() {  # name, command...
  local name=$1; shift
  if running "$name"; then echo "  $name already running (pid $(cat "$(pidfile "$name")"))"; return; fi
  nohup "$@" >>"$RUN/logs/$name.log" 2>&1 &
  echo $! >"$(pidfile "$name")"
}

wait_http() {  # url, what, seconds
  local url=$1 what=$2 limit=${3:-30} i=0
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt $((limit * 10)) ]; then
      echo "fleet: $what did not come up at $url; see $RUN/logs" >&2
      return 1
    fi
    sleep 0.1
  done
}

start_node() {
  local n=$1
  local zone=${ZONES[$((n - 1))]}
  launch "storage-n$n" "$BUILD/services/storage-node/shoal-storage-node" --node-id "n$n" \
    --zone "$zone" --data-dir "$RUN/data/n$n" --nats "$NATS_URL" --log-level "$LEVEL" \
    --admin-port $((ADMIN + 10 + n))
}

start() {
  for bin in services/router/shoal-router services/metadata/shoal-metadata \
             services/storage-node/shoal-storage-node; do
    [ -x "$BUILD/$bin" ] || { echo "fleet: $BUILD/$bin missing; run make build" >&2; exit 1; }
  done
  mkdir -p "$RUN/data/nats" "$RUN/data/metadata"
  echo "fleet: starting under $RUN"
  launch nats nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$RUN/data/nats" -n shoal-local
  local i=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "fleet: nats-server did not start" >&2; exit 1; }
    sleep 0.1
  done
  launch metadata "$BUILD/services/metadata/shoal-metadata" --data-dir "$RUN/data/metadata" \
    --nats "$NATS_URL" --partitions "$PARTITIONS" --log-level "$LEVEL" --admin-port $((ADMIN + 1))
  for n in 1 2 3; do start_node "$n"; done
  launch router "$BUILD/services/router/shoal-router" --port "$PORT" --nats "$NATS_URL" \
    --log-level "$LEVEL" --admin-port "$ADMIN"
  wait_http "http://127.0.0.1:$((ADMIN + 1))/readyz" metadata
  for n in 1 2 3; do wait_http "http://127.0.0.1:$((ADMIN + 10 + n))/readyz" "storage node n$n"; done
  wait_http "http://127.0.0.1:$PORT/" router
  # Tables are placed on registered nodes: wait until metadata has heard from all three.
  i=0
  until [ "$(curl -fsS "http://127.0.0.1:$((ADMIN + 1))/metrics" 2>/dev/null |
            grep -c '^shoal_metadata_nodes{.*} 1')" -ge 3 ]; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "fleet: storage nodes did not register" >&2; exit 1; }
    sleep 0.1
  done
  echo "fleet: up. DynamoDB endpoint http://localhost:$PORT  (NATS $NATS_URL)"
  echo "fleet: logs in $RUN/logs/*.log; metrics on ports $ADMIN (router), $((ADMIN + 1)) (metadata), $((ADMIN + 11))-$((ADMIN + 13)) (storage)"
}

stop() {
  local name
  for name in router storage-n1 storage-n2 storage-n3 metadata nats; do
    local f; f=$(pidfile "$name")
    [ -f "$f" ] || continue
    local pid; pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
      kill -CONT "$pid" 2>/dev/null || true  # a paused process must run to shut down
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  echo "fleet: stopped"
}

status() {
  local name
  for name in nats metadata storage-n1 storage-n2 storage-n3 router; do
    if running "$name"; then echo "$name: running (pid $(cat "$(pidfile "$name")"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  kill-node)
    f=$(pidfile "storage-n$2"); kill -KILL "$(cat "$f")" 2>/dev/null || true; rm -f "$f" ;;
  start-node)
    start_node "$2"; wait_http "http://127.0.0.1:$((ADMIN + 10 + $2))/readyz" "storage node n$2" ;;
  pause-node)
    kill -STOP "$(cat "$(pidfile "storage-n$2")")" ;;
  resume-node)
    kill -CONT "$(cat "$(pidfile "storage-n$2")")" ;;
  *) echo "usage: $0 start|stop|status|kill-node N|start-node N|pause-node N|resume-node N" >&2
     exit 2 ;;
esac
