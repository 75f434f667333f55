#!/usr/bin/env bash
# Runs Shoal's tests: unit and integration (ctest), then e2e (pytest + boto3 + AWS CLI)
# against a fresh local fleet on its own ports, so a `make run` fleet is left alone, then the
# same e2e suite against DynamoDB Local (the reference implementation; its known differences
# from AWS are marked xfail_ddblocal). SHOAL_SKIP_DDB_LOCAL=1 skips that last part.
#   scripts/test.sh BUILD_DIR [all|e2e]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
WHAT=${2:-all}

if [ "$WHAT" = all ]; then
  echo "== unit and integration tests (ctest)"
  (cd "$BUILD" && ctest --output-on-failure -j "$(nproc)")
  echo "== fault-suite tools (linearizability checker)"
  SHOAL_BUILD_DIR="$BUILD" python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/fault"
  echo "== fuzzing with libFuzzer and sanitizers (scripts/fuzz.sh)"
  bash "$ROOT/scripts/fuzz.sh" "${SHOAL_FUZZ_SECONDS:-30}"
  echo "== Helm chart: lint, template, helm-unittest, install on a KWOK control plane (tests/k8s)"
  bash "$ROOT/scripts/k8s-tools.sh"
  SHOAL_BUILD_DIR="$BUILD" K8S_REQUIRE=1 python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/k8s"
  echo "== dashboards: every query through a real Prometheus scraping a loaded fleet"
  SHOAL_BUILD_DIR="$BUILD" python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/dashboards"
  echo "== shoalctl and the router's admin endpoint on a real fleet (tests/ctl)"
  SHOAL_BUILD_DIR="$BUILD" python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/ctl"
  echo "== autoscaler on a real fleet: a size split at a 1 MiB threshold (tests/autoscaler)"
  SHOAL_BUILD_DIR="$BUILD" python3 -m pytest -q -p no:cacheprovider -rs "$ROOT/tests/autoscaler"
  echo "== scale-out on a real fleet: heat splits, growth to 16+ partitions, new nodes, a drain (tests/scale)"
  SHOAL_BUILD_DIR="$BUILD" python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/scale"
fi

echo "== e2e tests (pytest against a fresh fleet)"
export SHOAL_RUN_DIR="$ROOT/.run/e2e"
export SHOAL_BUILD_DIR="$BUILD"
export SHOAL_NATS_PORT=${E2E_NATS_PORT:-14222}
export SHOAL_PORT=${E2E_PORT:-18000}
export SHOAL_ADMIN_BASE=${E2E_ADMIN_BASE:-19100}
bash "$ROOT/scripts/fleet.sh" stop >/dev/null 2>&1 || true
rm -rf "$SHOAL_RUN_DIR"
trap 'bash "$ROOT/scripts/fleet.sh" stop >/dev/null 2>&1 || true' EXIT
bash "$ROOT/scripts/fleet.sh" start
set +e
python3 -m pytest -q "$ROOT/tests/e2e" --url "http://127.0.0.1:$SHOAL_PORT" \
  -p no:cacheprovider
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "== e2e failed; last lines of each service log:"
  for f in "$SHOAL_RUN_DIR"/logs/*.log; do echo "--- $f"; tail -n 20 "$f"; done
  exit $rc
fi
bash "$ROOT/scripts/fleet.sh" stop >/dev/null 2>&1 || true

if [ "${SHOAL_SKIP_DDB_LOCAL:-0}" != 1 ]; then
  echo "== the same e2e suite against DynamoDB Local (reference)"
  DDB_PORT=${E2E_DDB_LOCAL_PORT:-18001}
  bash "$ROOT/scripts/dynamodb-local.sh" start "$DDB_PORT"
  trap 'bash "$ROOT/scripts/dynamodb-local.sh" stop "$DDB_PORT" >/dev/null 2>&1 || true' EXIT
  set +e
  DDB_TARGET=ddblocal SHOAL_RUN_DIR= python3 -m pytest -q "$ROOT/tests/e2e" \
    --url "http://127.0.0.1:$DDB_PORT" --target ddblocal -p no:cacheprovider
  rc=$?
  set -e
fi
exit $rc
