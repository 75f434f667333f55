#!/usr/bin/env bash
# CPU profile of Shoal's hot paths under the benchmark driver: starts a fleet (3 replicas) on
# the bench-compare ports, loads records, then runs one workload while `perf record` samples
# the router and one storage node, and prints the top costs of each (self time by symbol).
#   bench/profile.sh [put|c|a|b|f] [seconds]      (BUILD_DIR=build by default)
# Needs perf (Debian linux-perf; installed here if missing) and root or
# kernel.perf_event_paranoid <= 1 for another process.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORKLOAD=${1:-put}
SECONDS_=${2:-15}
BUILD=$(cd "${BUILD_DIR:-$ROOT/build}" && pwd)
OUT=$ROOT/.run/profile
RECORDS=${RECORDS:-20000}
export SHOAL_RUN_DIR=$ROOT/.run/profile/fleet SHOAL_NATS_PORT=17622 SHOAL_PORT=18720 \
       SHOAL_ADMIN_BASE=20600 SHOAL_LOG_LEVEL=warn SHOAL_BUILD_DIR=$BUILD
command -v perf >/dev/null 2>&1 || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null
}
mkdir -p "$OUT"
bash "$ROOT/scripts/fleet.sh" stop >/dev/null 2>&1 || true
rm -rf "$SHOAL_RUN_DIR"
trap 'bash "$ROOT/scripts/fleet.sh" stop >/dev/null 2>&1 || true' EXIT
bash "$ROOT/scripts/fleet.sh" start >/dev/null
BENCH=("$BUILD/bench/driver/shoal-bench" --endpoint "http://127.0.0.1:$SHOAL_PORT" --records "$RECORDS"
       --connections 32 --quiet)
"${BENCH[@]}" --create-table --workload load >/dev/null
router=$(cat "$SHOAL_RUN_DIR/pids/router.pid")
node=$(cat "$SHOAL_RUN_DIR/pids/storage-n1.pid")
"${BENCH[@]}" --workload "$WORKLOAD" --duration $((SECONDS_ + 4)) --json "$OUT/$WORKLOAD.json" >/dev/null &
bench=$!
sleep 2
perf record -q -F 499 -g -o "$OUT/router-$WORKLOAD.data" -p "$router" -- sleep "$SECONDS_" 2>/dev/null &
perf record -q -F 499 -g -o "$OUT/storage-$WORKLOAD.data" -p "$node" -- sleep "$SECONDS_" 2>/dev/null
wait
for who in router storage; do
  echo "== $who, workload $WORKLOAD: top self time by symbol"
  perf report -q -i "$OUT/$who-$WORKLOAD.data" --no-children --sort dso,symbol --stdio -g none \
    --percent-limit 1 2>/dev/null | awk 'NF {$1=$1; sub(/ - -$/, ""); print}' | head -25
  echo "-- by library"
  perf report -q -i "$OUT/$who-$WORKLOAD.data" --no-children --sort dso --stdio -g none \
    --percent-limit 2 2>/dev/null | awk 'NF {$1=$1; sub(/ - -$/, ""); print}' | head -10
done
echo "(perf data in $OUT; driver results in $OUT/$WORKLOAD.json)"
