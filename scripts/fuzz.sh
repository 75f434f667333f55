#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer + AddressSanitizer/LeakSanitizer + UBSan, all
# code instrumented: -DSHOAL_FUZZ=ON) in build-fuzz/, and runs each for a bounded time.
# Fails on any crash, leak, sanitizer report or hang (a unit slower than 10 s).
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 30; CI uses the default)
# Reproduce a finding: build-fuzz/libs/router/request_fuzz <crash-file>
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-30}
BUILD="$ROOT/build-fuzz"
command -v clang++ >/dev/null || { echo "fuzz: clang++ missing; run make deps" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSHOAL_FUZZ=ON >/dev/null
cmake --build "$BUILD" --target request_fuzz expr_fuzz -j "$(nproc)"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
run() {  # name binary [seed corpus dir]
  local name=$1 bin=$2 seeds=${3:-}
  mkdir -p "$WORK/$name"
  if [ -n "$seeds" ]; then cp "$seeds"/* "$WORK/$name/"; fi
  echo "== fuzz: $name for ${SECONDS_EACH}s"
  (cd "$WORK" && "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "$WORK/$name" 2>"$WORK/$name.log") || {
    echo "fuzz: $name FAILED; last lines:" >&2
    tail -n 40 "$WORK/$name.log" >&2
    ls "$WORK"/crash-* "$WORK"/leak-* "$WORK"/timeout-* 2>/dev/null >&2 || true
    cp "$WORK"/crash-* "$WORK"/leak-* "$WORK"/timeout-* "$ROOT/" 2>/dev/null || true
    exit 1
  }
  grep -E "^stat::number_of_executed_units|^Done" "$WORK/$name.log" || true
}
run request_fuzz "$BUILD/libs/router/request_fuzz" "$ROOT/libs/router/fuzz/corpus"
run expr_fuzz "$BUILD/libs/expr/expr_fuzz"
echo "fuzz: no crash, leak or hang"
