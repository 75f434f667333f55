#!/usr/bin/env bash
# Starts and stops a local Shoal fleet: nats-server (JetStream), metadata, three storage
# nodes in zones a/b/c, the router and the autoscaler (splits and rebalancing; one replica).
# Everything lives under $SHOAL_RUN_DIR.
#
#   scripts/fleet.sh start|stop|status
#   scripts/fleet.sh kill-node N      # kill -9 storage node N (1..3)
#   scripts/fleet.sh start-node N     # (re)start storage node N (4..6: extra nodes in zones a/b/c)
#   scripts/fleet.sh pause-node N     # SIGSTOP storage node N (alive but silent)
#   scripts/fleet.sh resume-node N    # SIGCONT it
#   scripts/fleet.sh cut-zone Z       # (SHOAL_ZONES=netns) cut zone Z (a|b|c) off the network
#   scripts/fleet.sh heal-zone Z      # reconnect it
#
# SHOAL_ZONES=netns runs each zone's storage node in its own network namespace, joined to
# the others through a bridge (needs root): cutting a zone's link is a real partition. The
# default (SHOAL_ZONES=local) runs everything on loopback; faults are kill-node/pause-node.
#
# Settings (environment): SHOAL_RUN_DIR (.run), SHOAL_BUILD_DIR (build), SHOAL_NATS_PORT
# (4222), SHOAL_PORT (router, 8000), SHOAL_ADMIN_BASE (9100: router +0, metadata +1,
# autoscaler +2, storage node N +10+N), SHOAL_PARTITIONS (2), SHOAL_LOG_LEVEL (info),
# SHOAL_STORAGE_ARGS (extra storage-node flags), SHOAL_AUTOSCALER_ARGS (extra autoscaler
# flags, e.g. "--split-size-bytes 8388608" or "--dry-run"); the services themselves read
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
STORAGE_ARGS=${SHOAL_STORAGE_ARGS:-}  # extra storage-node flags, e.g. --noop-data (bench ceiling)
AUTOSCALER_ARGS=${SHOAL_AUTOSCALER_ARGS:-}  # extra autoscaler flags, e.g. --split-size-bytes N
ZONES=(zone-a zone-b zone-c)
ZONE_MODE=${SHOAL_ZONES:-local}
# netns mode: one /24 per fleet (so e2e and `make run` fleets can coexist), derived from the
# NATS port; the bridge is .1 (where nats-server listens), zone a/b/c are .11/.12/.13.
NET_ID=$((NATS_PORT % 250))
SUBNET="10.213.$NET_ID"
BRIDGE="shoalbr$NET_ID"
if [ "$ZONE_MODE" = netns ]; then
  NATS_HOST="$SUBNET.1"
else
  NATS_HOST=127.0.0.1
fi
NATS_URL="nats://$NATS_HOST:$NATS_PORT"

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

zone_letter() { echo "abc" | cut -c"$(( ($1 - 1) % 3 + 1 ))"; }  # node N: zone a/b/c/a/b/c
netns_name() { echo "shoal$NET_ID-$1"; }               # per zone letter
veth_name() { echo "shv$NET_ID$1"; }                   # root side of the zone's link
node_host() {  # where node N's admin port is reachable from here
  if [ "$ZONE_MODE" = netns ]; then echo "$SUBNET.$((10 + ($1 - 1) % 3 + 1))"; else echo 127.0.0.1; fi
}

net_up() {  # bridge + one namespace per zone (idempotent)
  [ "$(id -u)" -eq 0 ] || { echo "fleet: SHOAL_ZONES=netns needs root" >&2; exit 1; }
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$SUBNET.1/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  for n in 1 2 3; do
    local z; z=$(zone_letter "$n")
    local ns; ns=$(netns_name "$z")
    local v; v=$(veth_name "$z")
    ip netns list | grep -qw "$ns" && continue
    ip netns add "$ns"
    ip link add "$v" type veth peer name eth0 netns "$ns"
    ip link set "$v" master "$BRIDGE" up
    ip -n "$ns" addr add "$SUBNET.$((10 + n))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
}

net_down() {
  for z in a b c; do
    ip netns del "$(netns_name "$z")" 2>/dev/null || true  # takes its veth pair with it
  done
  ip link del "$BRIDGE" 2>/dev/null || true
}

start_node() {
  local n=$1
  local zone=${ZONES[$(( (n - 1) % 3 ))]}
  local wrap=()
  if [ "$ZONE_MODE" = netns ]; then wrap=(ip netns exec "$(netns_name "$(zone_letter "$n")")"); fi
  launch "storage-n$n" "${wrap[@]}" "$BUILD/services/storage-node/shoal-storage-node" \
    --node-id "n$n" --zone "$zone" --data-dir "$RUN/data/n$n" --nats "$NATS_URL" \
    --log-level "$LEVEL" --admin-port $((ADMIN + 10 + n)) $STORAGE_ARGS
}

start() {
  for bin in services/router/shoal-router services/metadata/shoal-metadata \
             services/storage-node/shoal-storage-node services/autoscaler/shoal-autoscaler; do
    [ -x "$BUILD/$bin" ] || { echo "fleet: $BUILD/$bin missing; run make build" >&2; exit 1; }
  done
  mkdir -p "$RUN/data/nats" "$RUN/data/metadata"
  echo "fleet: starting under $RUN (zones: $ZONE_MODE)"
  if [ "$ZONE_MODE" = netns ]; then net_up; fi
  # Raft appends carry up to 16 entries of up to 400 KB items: 8 MB messages (NATS' default
  # is 1 MB).
  # A client that stops answering pings (cut off, SIGSTOPped) loses its subscriptions after
  # ~6 s, so requests to it fail fast with "no responders" instead of timing out.
  printf 'max_payload: 8MB\nping_interval: "2s"\nping_max: 3\n' >"$RUN/nats.conf"
  launch nats nats-server -c "$RUN/nats.conf" -a "$NATS_HOST" -p "$NATS_PORT" -js -sd "$RUN/data/nats" -n shoal-local
  local i=0
  until (exec 3<>"/dev/tcp/$NATS_HOST/$NATS_PORT") 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "fleet: nats-server did not start" >&2; exit 1; }
    sleep 0.1
  done
  launch metadata "$BUILD/services/metadata/shoal-metadata" --data-dir "$RUN/data/metadata" \
    --nats "$NATS_URL" --partitions "$PARTITIONS" --log-level "$LEVEL" --admin-port $((ADMIN + 1))
  for n in 1 2 3; do start_node "$n"; done
  launch router "$BUILD/services/router/shoal-router" --port "$PORT" --nats "$NATS_URL" \
    --log-level "$LEVEL" --admin-port "$ADMIN"
  launch autoscaler "$BUILD/services/autoscaler/shoal-autoscaler" --nats "$NATS_URL" \
    --log-level "$LEVEL" --admin-port $((ADMIN + 2)) $AUTOSCALER_ARGS
  wait_http "http://127.0.0.1:$((ADMIN + 1))/readyz" metadata
  : >"$RUN/endpoints.env"
  for n in 1 2 3; do
    wait_http "http://$(node_host "$n"):$((ADMIN + 10 + n))/readyz" "storage node n$n"
    echo "STORAGE_ADMIN_$n=$(node_host "$n"):$((ADMIN + 10 + n))" >>"$RUN/endpoints.env"
  done
  wait_http "http://127.0.0.1:$PORT/" router
  wait_http "http://127.0.0.1:$ADMIN/readyz" "router (access keys)"
  wait_http "http://127.0.0.1:$((ADMIN + 2))/readyz" "autoscaler (catalog)"
  # Tables are placed on registered nodes: wait until metadata has heard from all three.
  i=0
  until [ "$(curl -fsS "http://127.0.0.1:$((ADMIN + 1))/metrics" 2>/dev/null |
            grep -c '^shoal_metadata_nodes{.*} 1')" -ge 3 ]; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "fleet: storage nodes did not register" >&2; exit 1; }
    sleep 0.1
  done
  echo "fleet: up. DynamoDB endpoint http://localhost:$PORT  (NATS $NATS_URL)"
  echo "fleet: logs in $RUN/logs/*.log; metrics on ports $ADMIN (router), $((ADMIN + 1)) (metadata), $((ADMIN + 2)) (autoscaler), $((ADMIN + 11))-$((ADMIN + 13)) (storage)"
}

stop() {
  local name
  for name in autoscaler router storage-n1 storage-n2 storage-n3 storage-n4 storage-n5 storage-n6 metadata nats; do
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
  # Whatever mode it was started in: remove this fleet's namespaces and bridge if present.
  if ip link show "$BRIDGE" >/dev/null 2>&1; then net_down; fi
  echo "fleet: stopped"
}

status() {
  local name
  for name in nats metadata storage-n1 storage-n2 storage-n3 router autoscaler; do
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
    if [ "$2" -gt 3 ]; then echo "STORAGE_ADMIN_$2=$(node_host "$2"):$((ADMIN + 10 + $2))" >>"$RUN/endpoints.env"; fi
    start_node "$2"; wait_http "http://$(node_host "$2"):$((ADMIN + 10 + $2))/readyz" "storage node n$2" ;;
  cut-zone)
    [ "$ZONE_MODE" = netns ] || { echo "fleet: cut-zone needs SHOAL_ZONES=netns" >&2; exit 2; }
    ip link set "$(veth_name "$2")" down ;;
  heal-zone)
    [ "$ZONE_MODE" = netns ] || { echo "fleet: heal-zone needs SHOAL_ZONES=netns" >&2; exit 2; }
    ip link set "$(veth_name "$2")" up ;;
  pause-node)
    kill -STOP "$(cat "$(pidfile "storage-n$2")")" ;;
  resume-node)
    kill -CONT "$(cat "$(pidfile "storage-n$2")")" ;;
  *) echo "usage: $0 start|stop|status|kill-node N|start-node N|pause-node N|resume-node N|cut-zone Z|heal-zone Z" >&2
     exit 2 ;;
esac
