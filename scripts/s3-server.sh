#!/usr/bin/env bash
# Local S3 server (MinIO, built from source with `go install`) for Berth's storage tests.
#
#   scripts/s3-server.sh install   build MinIO into $BERTH_TOOLS_DIR/bin (idempotent, needs Go)
#   eval "$(scripts/s3-server.sh start)"
#                                  start it on 127.0.0.1 (installing first when needed) and
#                                  export S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION
#   scripts/s3-server.sh env       print the export lines of the running server again
#   scripts/s3-server.sh status    exit 0 when the server is running
#   scripts/s3-server.sh stop      stop it (waits for the process to exit)
#
# Environment:
#   BERTH_TOOLS_DIR      where binaries are cached   (default: $HOME/.cache/berth-tools)
#   BERTH_SERVICES_DIR   state of running services    (default: ./.test-services); data, pid
#                        file and log live in $BERTH_SERVICES_DIR/s3
#   S3_PORT              API port (default: 59000, or a random free port when 59000 is taken)
#   MINIO_VERSION        module version for `go install` (default: pinned, see below)
#
# Only the export lines go to stdout; progress goes to stderr and server output to the log file.
# See docs/storage-layout.md for why MinIO and how long the build takes.
set -euo pipefail

# The version `go install github.com/minio/minio@latest` resolved to when this script was
# written; pinned so every machine builds the same server. Override with MINIO_VERSION=latest.
readonly DEFAULT_MINIO_VERSION='v0.0.0-20260212201848-7aac2a2c5b7c'

readonly TOOLS_DIR="${BERTH_TOOLS_DIR:-$HOME/.cache/berth-tools}"
readonly MINIO_BIN="$TOOLS_DIR/bin/minio"
readonly SERVICE_DIR="${BERTH_SERVICES_DIR:-./.test-services}/s3"
readonly DATA_DIR="$SERVICE_DIR/data"
readonly PID_FILE="$SERVICE_DIR/minio.pid"
readonly ENV_FILE="$SERVICE_DIR/env.sh"
readonly LOG_FILE="$SERVICE_DIR/minio.log"

# Fixed, test-only credentials (the server listens on 127.0.0.1 only).
readonly ACCESS_KEY='berth-test'
readonly SECRET_KEY='berth-test-secret'
readonly REGION='us-east-1'

log() { printf 's3-server: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

minio_works() { [[ -x "$MINIO_BIN" ]] && "$MINIO_BIN" --version >/dev/null 2>&1; }

cmd_install() {
  if minio_works; then
    log "MinIO already installed at $MINIO_BIN"
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "Go is required to build MinIO (https://go.dev/dl/)"
  local version="${MINIO_VERSION:-$DEFAULT_MINIO_VERSION}"
  local build_log="$TOOLS_DIR/minio-install.log"
  mkdir -p "$TOOLS_DIR/bin"
  log "building github.com/minio/minio@$version into $TOOLS_DIR/bin (a cold build takes ~4 min; log: $build_log)"
  local started=$SECONDS
  if ! GOBIN="$TOOLS_DIR/bin" go install "github.com/minio/minio@$version" >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2 || true
    die "go install of MinIO failed (full log: $build_log)"
  fi
  minio_works || die "MinIO was built but does not run: $MINIO_BIN"
  log "MinIO installed in $((SECONDS - started))s"
}

# Prints the pid of the running server, or fails.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid belonging to something else.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'minio' || return 1
  printf '%s\n' "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  if command -v node >/dev/null 2>&1; then
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
  else
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
  fi
}

cmd_start() {
  if running_pid >/dev/null; then
    log "already running (pid $(running_pid))"
    cat "$ENV_FILE"
    return 0
  fi
  minio_works || cmd_install

  local port
  if [[ -n "${S3_PORT:-}" ]]; then
    port="$S3_PORT"
    ! port_in_use "$port" || die "port $port on 127.0.0.1 is already in use"
  else
    port=59000
    if port_in_use "$port"; then port="$(free_port)"; fi
  fi
  # MinIO always starts its web console listener; keep it on loopback too (and disabled).
  local console_port
  console_port="$(free_port)"

  mkdir -p "$DATA_DIR"
  rm -f "$PID_FILE" "$ENV_FILE"
  log "starting MinIO on 127.0.0.1:$port (data: $DATA_DIR, log: $LOG_FILE)"
  MINIO_ROOT_USER="$ACCESS_KEY" MINIO_ROOT_PASSWORD="$SECRET_KEY" MINIO_SITE_REGION="$REGION" \
    MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
    setsid "$MINIO_BIN" server "$DATA_DIR" --quiet --anonymous \
    --address "127.0.0.1:$port" --console-address "127.0.0.1:$console_port" \
    </dev/null >>"$LOG_FILE" 2>&1 &
  local pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"

  local endpoint="http://127.0.0.1:$port"
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "$endpoint/minio/health/ready" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      tail -n 30 "$LOG_FILE" >&2 || true
      die "MinIO exited during start-up (log: $LOG_FILE)"
    fi
    if ((SECONDS > deadline)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      tail -n 30 "$LOG_FILE" >&2 || true
      die "MinIO was not ready after 60s (log: $LOG_FILE)"
    fi
    sleep 0.2
  done

  cat >"$ENV_FILE" <<EOF
export S3_ENDPOINT=$endpoint
export S3_ACCESS_KEY_ID=$ACCESS_KEY
export S3_SECRET_ACCESS_KEY=$SECRET_KEY
export S3_REGION=$REGION
EOF
  log "ready (pid $pid)"
  cat "$ENV_FILE"
}

cmd_env() {
  running_pid >/dev/null || die "not running; start it with: eval \"\$(scripts/s3-server.sh start)\""
  cat "$ENV_FILE"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    log "running (pid $pid)"
  else
    log "not running"
    return 1
  fi
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$PID_FILE" "$ENV_FILE"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS > deadline)); then
      log "still running after 20s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE" "$ENV_FILE"
  log "stopped"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *)
    echo "usage: $0 {install|start|stop|status|env}" >&2
    exit 2
    ;;
esac
