#!/usr/bin/env bash
# Runs a Prometheus (Debian's /usr/bin/prometheus) that scrapes a local fleet started by
# scripts/fleet.sh: the router, metadata and every storage node's admin port (/metrics).
# Point a Grafana at it and import charts/shoal/dashboards/*.json to look at a local fleet;
# tests/dashboards uses it to check that every dashboard expression returns data.
#
#   scripts/prometheus.sh start    # (re)writes the config; a running Prometheus reloads it
#   scripts/prometheus.sh stop|status
#
# Settings (environment), shared with fleet.sh: SHOAL_RUN_DIR (.run), SHOAL_ADMIN_BASE (9100).
# Own: SHOAL_PROMETHEUS_PORT (9090), SHOAL_PROMETHEUS_DIR ($SHOAL_RUN_DIR/prometheus: config,
# TSDB, log and pid), SHOAL_SCRAPE_INTERVAL (5s). Storage nodes are read from the fleet's
# endpoints.env (so nodes added with `fleet.sh start-node 4..6` are scraped after another
# `start`); without it, nodes n1..n3 on loopback.
# Job names: shoal-router, shoal-metadata, shoal-storage (the dashboards do not depend on them).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=${SHOAL_RUN_DIR:-$ROOT/.run}
ADMIN=${SHOAL_ADMIN_BASE:-9100}
PORT=${SHOAL_PROMETHEUS_PORT:-9090}
DIR=${SHOAL_PROMETHEUS_DIR:-$RUN/prometheus}
INTERVAL=${SHOAL_SCRAPE_INTERVAL:-5s}
PROMETHEUS=${SHOAL_PROMETHEUS_BIN:-prometheus}
PIDFILE="$DIR/prometheus.pid"

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

storage_targets() {
  local env="$RUN/endpoints.env"
  if [ -f "$env" ]; then
    grep '^STORAGE_ADMIN_[0-9]*=' "$env" | cut -d= -f2 | sort -u
  else
    for n in 1 2 3; do echo "127.0.0.1:$((ADMIN + 10 + n))"; done
  fi
}

job() {  # name, targets...
  local name=$1; shift
  printf '  - job_name: %s\n    static_configs:\n      - targets:\n' "$name"
  local t
  for t in "$@"; do printf '          - "%s"\n' "$t"; done
}

write_config() {
  mkdir -p "$DIR/data"
  local storage
  mapfile -t storage < <(storage_targets)
  {
    printf 'global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n' \
      "$INTERVAL" "$INTERVAL" "$INTERVAL"
    printf 'scrape_configs:\n'
    job shoal-router "127.0.0.1:$ADMIN"
    job shoal-metadata "127.0.0.1:$((ADMIN + 1))"
    job shoal-storage "${storage[@]}"
    job shoal-autoscaler "127.0.0.1:$((ADMIN + 2))"
  } >"$DIR/prometheus.yml.tmp"
  mv "$DIR/prometheus.yml.tmp" "$DIR/prometheus.yml"
}

start() {
  command -v "$PROMETHEUS" >/dev/null || { echo "prometheus: $PROMETHEUS not found (apt-get install prometheus)" >&2; exit 1; }
  write_config
  if running; then
    kill -HUP "$(cat "$PIDFILE")"
    echo "prometheus: config reloaded (pid $(cat "$PIDFILE"), http://127.0.0.1:$PORT)"
    return
  fi
  nohup "$PROMETHEUS" --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/data" \
    --web.listen-address="127.0.0.1:$PORT" --storage.tsdb.retention.time=2d \
    >>"$DIR/prometheus.log" 2>&1 &
  echo $! >"$PIDFILE"
  local i=0
  until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/-/ready" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 300 ] || ! running; then
      echo "prometheus: did not become ready on :$PORT; see $DIR/prometheus.log" >&2
      tail -n 20 "$DIR/prometheus.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  echo "prometheus: up at http://127.0.0.1:$PORT (scraping every $INTERVAL; config $DIR/prometheus.yml)"
}

stop() {
  if [ -f "$PIDFILE" ]; then
    local pid; pid=$(cat "$PIDFILE")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
  fi
  echo "prometheus: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if running; then echo "prometheus: running (pid $(cat "$PIDFILE"), http://127.0.0.1:$PORT)"
    else echo "prometheus: stopped"; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
