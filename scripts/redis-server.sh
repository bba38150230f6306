#!/usr/bin/env bash
# Private Redis for tests (the BullMQ queue driver), from Debian's redis-server.
#
#   eval "$(scripts/redis-server.sh start)"   # prints: export REDIS_URL=redis://127.0.0.1:PORT
#   scripts/redis-server.sh status
#   scripts/redis-server.sh stop
#
# Listens only on 127.0.0.1:${REDIS_PORT:-56379} (no unix socket), keeps nothing on disk
# (--save '' --appendonly no), runs daemonized with its pid file, log and working dir in
# ${BERTH_SERVICES_DIR:-./.test-services}/redis. maxmemory-policy is noeviction, as BullMQ requires.
# Only the export line goes to stdout; progress and errors go to stderr, the server log to
# $BERTH_SERVICES_DIR/redis/server.log.
set -euo pipefail

REDIS_SERVER="${REDIS_SERVER:-redis-server}"
REDIS_CLI="${REDIS_CLI:-redis-cli}"
REDIS_PORT="${REDIS_PORT:-56379}"
SERVICES_DIR="${BERTH_SERVICES_DIR:-./.test-services}"
mkdir -p "$SERVICES_DIR"
SERVICES_DIR="$(cd "$SERVICES_DIR" && pwd)"
BASE="$SERVICES_DIR/redis"
PIDFILE="$BASE/redis.pid"
LOGFILE="$BASE/server.log"
URL="redis://127.0.0.1:${REDIS_PORT}"

log() { printf 'redis-server: %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

command -v "$REDIS_SERVER" >/dev/null 2>&1 ||
  die "$REDIS_SERVER not found (install redis-server: scripts/setup-tools.sh)"
command -v "$REDIS_CLI" >/dev/null 2>&1 ||
  die "$REDIS_CLI not found (install redis-tools: scripts/setup-tools.sh)"

cli() { "$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

pid_alive() {
  [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

is_running() {
  pid_alive && [[ "$(cli ping 2>/dev/null)" == "PONG" ]]
}

wait_ready() {
  local i
  for ((i = 0; i < 100; i++)); do
    if [[ "$(cli ping 2>/dev/null)" == "PONG" ]]; then
      return 0
    fi
    sleep 0.1
  done
  tail -n 50 "$LOGFILE" >&2 || true
  die "Redis did not answer PING on 127.0.0.1:$REDIS_PORT"
}

cmd_start() {
  if is_running; then
    printf 'export REDIS_URL=%s\n' "$URL"
    return 0
  fi
  if [[ "$(cli ping 2>/dev/null)" == "PONG" ]]; then
    die "port $REDIS_PORT already answers PING but not from $PIDFILE; set REDIS_PORT elsewhere"
  fi
  mkdir -p "$BASE"
  rm -f "$PIDFILE"
  log "starting Redis on 127.0.0.1:$REDIS_PORT (log: $LOGFILE)"
  "$REDIS_SERVER" \
    --bind 127.0.0.1 \
    --port "$REDIS_PORT" \
    --unixsocket '' \
    --protected-mode yes \
    --save '' \
    --appendonly no \
    --maxmemory-policy noeviction \
    --dir "$BASE" \
    --daemonize yes \
    --pidfile "$PIDFILE" \
    --logfile "$LOGFILE" ||
    die "redis-server failed to start (see $LOGFILE)"
  wait_ready
  printf 'export REDIS_URL=%s\n' "$URL"
}

cmd_stop() {
  if ! pid_alive; then
    log "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  local pid i
  pid="$(cat "$PIDFILE")"
  log "stopping Redis (pid $pid)"
  cli shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      return 0
    fi
    sleep 0.1
  done
  die "Redis (pid $pid) did not stop"
}

cmd_status() {
  if is_running; then
    log "running on 127.0.0.1:$REDIS_PORT (pid $(cat "$PIDFILE"))"
    printf 'export REDIS_URL=%s\n' "$URL"
  else
    log "not running"
    return 3
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
