#!/usr/bin/env bash
# Private PostgreSQL 15 cluster for tests, from Debian's binaries.
#
#   eval "$(scripts/pg-server.sh start)"   # prints: export DATABASE_URL=postgres://berth:berth@127.0.0.1:PORT/berth
#   scripts/pg-server.sh status
#   scripts/pg-server.sh stop
#
# The cluster lives in ${BERTH_SERVICES_DIR:-./.test-services}/pg, listens only on 127.0.0.1:${PG_PORT:-55432}
# (no unix socket outside the data dir) and trusts loopback connections. Role `berth` (password
# `berth`, SUPERUSER so tests can CREATE DATABASE) and database `berth` are created on first start.
# initdb refuses to run as root, so when run as root the data dir is owned by the `postgres`
# system user and the server binaries run through `runuser -u postgres --`.
# Only the export line goes to stdout; progress and errors go to stderr, the server log to
# $BERTH_SERVICES_DIR/pg/server.log.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT="${PG_PORT:-55432}"
SERVICES_DIR="${BERTH_SERVICES_DIR:-./.test-services}"
mkdir -p "$SERVICES_DIR"
SERVICES_DIR="$(cd "$SERVICES_DIR" && pwd)"
BASE="$SERVICES_DIR/pg"
DATA="$BASE/data"
LOGFILE="$BASE/server.log"
URL="postgres://berth:berth@127.0.0.1:${PG_PORT}/berth"

log() { printf 'pg-server: %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

[[ -x "$PG_BIN/pg_ctl" ]] || die "$PG_BIN/pg_ctl not found (install postgresql-15: scripts/setup-tools.sh)"

# as_pg CMD... : run CMD as the cluster owner
if [[ "$(id -u)" == "0" ]]; then
  id -u postgres >/dev/null 2>&1 || die "system user 'postgres' missing (install postgresql)"
  as_pg() { runuser -u postgres -- "$@"; }
  OWNER=postgres
else
  as_pg() { "$@"; }
  OWNER="$(id -un)"
fi

psql_admin() {
  # connect over TCP as the bootstrap superuser (trust auth on loopback)
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"
}

is_running() {
  [[ -f "$DATA/postmaster.pid" ]] && as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

wait_ready() {
  local i
  for ((i = 0; i < 120; i++)); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres; then
      return 0
    fi
    sleep 0.5
  done
  tail -n 50 "$LOGFILE" >&2 || true
  die "PostgreSQL did not become ready on 127.0.0.1:$PG_PORT"
}

do_init() {
  mkdir -p "$BASE"
  chown "$OWNER" "$BASE"
  chmod 0700 "$BASE"
  as_pg test -w "$BASE" || die "user $OWNER cannot reach $BASE (a parent directory is not traversable); set BERTH_SERVICES_DIR elsewhere"
  log "initdb in $DATA"
  local out
  if ! out="$(as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "initdb failed"
  fi
  cat >>"$DATA/postgresql.conf" <<EOF

# --- berth test cluster (scripts/pg-server.sh)
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$BASE'
max_connections = 200
fsync = on
shared_buffers = 128MB
logging_collector = off
EOF
  # loopback TCP only; trust is acceptable for a private test cluster bound to 127.0.0.1
  cat >"$DATA/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
EOF
  chown "$OWNER" "$DATA/postgresql.conf" "$DATA/pg_hba.conf"
}

do_bootstrap() {
  psql_admin <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'berth') THEN
    CREATE ROLE berth LOGIN SUPERUSER PASSWORD 'berth';
  END IF;
END
$$;
SQL
  if [[ "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = 'berth'")" != "1" ]]; then
    psql_admin -c 'CREATE DATABASE berth OWNER berth'
  fi
}

cmd_start() {
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    do_init
  fi
  if ! is_running; then
    touch "$LOGFILE"
    chown "$OWNER" "$LOGFILE"
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT (log: $LOGFILE)"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1" start >/dev/null 2>&1; then
      tail -n 50 "$LOGFILE" >&2 || true
      die "pg_ctl start failed"
    fi
  fi
  wait_ready
  do_bootstrap
  printf 'export DATABASE_URL=%s\n' "$URL"
}

cmd_stop() {
  if is_running; then
    log "stopping PostgreSQL ($DATA)"
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
  else
    log "not running"
  fi
}

cmd_status() {
  if is_running; then
    log "running on 127.0.0.1:$PG_PORT ($DATA)"
    printf 'export DATABASE_URL=%s\n' "$URL"
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
