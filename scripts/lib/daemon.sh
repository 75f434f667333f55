# Shared by scripts that start a DynamoDB-compatible server in the background (dynamodb-local.sh,
# peers.sh): pid file checks, "does it answer", waiting for it, stopping it. Source it.

daemon_running() {  # PIDFILE
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Any HTTP answer (2xx, or a 4xx JSON error) to a DynamoDB ListTables on 127.0.0.1:PORT.
dynamodb_answers() {  # PORT
  local auth="AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request"
  auth+=", SignedHeaders=host, Signature=00"
  curl -s -m 2 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$1/" \
    -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H "Authorization: $auth" -d '{}' 2>/dev/null | grep -qE '^[24]'
}

# Waits up to 60 s for the server of PIDFILE to answer on PORT; on failure prints LOG's tail,
# stops it and exits 1.
daemon_wait_up() {  # NAME PORT PIDFILE LOG
  local i=0
  until dynamodb_answers "$2"; do
    i=$((i + 1))
    if ! daemon_running "$3" || [ $i -gt 600 ]; then
      echo "$1: did not come up on :$2; last lines of $4:" >&2
      tail -n 30 "$4" >&2
      daemon_stop "$3"
      exit 1
    fi
    sleep 0.1
  done
}

daemon_stop() {  # PIDFILE: TERM, up to 5 s, then KILL
  if [ -f "$1" ]; then
    local pid; pid=$(cat "$1")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
  fi
}
