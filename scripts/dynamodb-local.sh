#!/usr/bin/env bash
# Runs DynamoDB Local (Amazon's official emulator), so the e2e suite can be checked against an
# independent implementation of the DynamoDB API (see `make conformance-ddblocal`).
#
#   scripts/dynamodb-local.sh start [PORT]    # in-memory, shared DB; returns once it answers
#   scripts/dynamodb-local.sh stop  [PORT]
#   scripts/dynamodb-local.sh fetch           # only download (done by start when needed)
#
# The jar and its dependencies (including sqlite4java's native library) come from Maven
# Central once, via `mvn dependency:copy-dependencies` on a generated pom, into
# .cache/dynamodb-local/<version>/; later runs use that copy and touch no network.
# Needs java (17+) and mvn: scripts/install-deps.sh installs them.
# Settings (environment): DDB_LOCAL_VERSION (3.3.1), DDB_LOCAL_PORT (18001 when no PORT given),
# DDB_LOCAL_JAVA_OPTS (-Xmx512m).
set -euo pipefail
# shellcheck source=lib/daemon.sh
source "$(dirname "$0")/lib/daemon.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=${DDB_LOCAL_VERSION:-3.3.1}
CACHE="$ROOT/.cache/dynamodb-local/$VERSION"
LIB="$CACHE/lib"
RUN="$ROOT/.run/ddb-local"
PORT=${2:-${DDB_LOCAL_PORT:-18001}}
PIDFILE="$RUN/ddb-local-$PORT.pid"
LOG="$RUN/ddb-local-$PORT.log"

fetch() {
  if [ -f "$CACHE/.complete" ]; then return; fi
  command -v java >/dev/null || { echo "dynamodb-local: java missing; run make deps" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "dynamodb-local: mvn missing; run make deps" >&2; exit 1; }
  echo "dynamodb-local: fetching DynamoDBLocal $VERSION from Maven Central into $CACHE"
  rm -rf "$CACHE"
  mkdir -p "$CACHE"
  # The DynamoDBLocal pom already depends on sqlite4java's native libraries (type so, dll,
  # dylib); naming the linux-amd64 one here too makes sure it is copied.
  cat >"$CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.shoal</groupId>
  <artifactId>dynamodb-local-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>software.amazon.dynamodb</groupId>
      <artifactId>DynamoDBLocal</artifactId>
      <version>$VERSION</version>
    </dependency>
    <dependency>
      <groupId>com.almworks.sqlite4java</groupId>
      <artifactId>libsqlite4java-linux-amd64</artifactId>
      <version>1.0.392</version>
      <type>so</type>
    </dependency>
  </dependencies>
</project>
EOF
  if ! mvn -B -q -f "$CACHE/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$LIB" -DincludeScope=runtime >"$CACHE/mvn.log" 2>&1; then
    echo "dynamodb-local: mvn failed; last lines of $CACHE/mvn.log:" >&2
    tail -n 30 "$CACHE/mvn.log" >&2
    exit 1
  fi
  ls "$LIB"/DynamoDBLocal-*.jar >/dev/null
  ls "$LIB"/libsqlite4java-linux-amd64-*.so >/dev/null
  touch "$CACHE/.complete"
}


start() {
  fetch
  mkdir -p "$RUN"
  if daemon_running "$PIDFILE"; then
    echo "dynamodb-local: already running on :$PORT (pid $(cat "$PIDFILE"))"
    return
  fi
  if dynamodb_answers "$PORT"; then
    echo "dynamodb-local: something else already answers on :$PORT" >&2
    exit 1
  fi
  # 3.x moved the classes from com.amazonaws.services.dynamodbv2 to software.amazon.dynamodb.
  local main=software.amazon.dynamodb.services.local.main.ServerRunner
  case "$VERSION" in 1.*|2.*) main=com.amazonaws.services.dynamodbv2.local.main.ServerRunner ;; esac
  # Run in $RUN: DynamoDB Local writes dynamodb-local-metadata.json into its working directory.
  # -disableTelemetry: nothing is sent anywhere (only package registries are reachable here).
  cd "$RUN"
  # shellcheck disable=SC2086  # DDB_LOCAL_JAVA_OPTS is split into words on purpose
  nohup java ${DDB_LOCAL_JAVA_OPTS:--Xmx512m} -Djava.library.path="$LIB" \
    -Dsqlite4java.library.path="$LIB" -cp "$LIB/*" \
    "$main" \
    -inMemory -sharedDb -disableTelemetry -port "$PORT" >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  daemon_wait_up dynamodb-local "$PORT" "$PIDFILE" "$LOG"
  echo "dynamodb-local: $VERSION up at http://127.0.0.1:$PORT (pid $(cat "$PIDFILE"), log $LOG)"
}

stop() {
  daemon_stop "$PIDFILE"
  echo "dynamodb-local: stopped (:$PORT)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  fetch) fetch ;;
  *) echo "usage: $0 start|stop|fetch [PORT]" >&2; exit 2 ;;
esac
