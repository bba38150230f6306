#!/usr/bin/env bash
# Installs everything the end-to-end tier (e2e/) needs on a Debian 12 machine:
#   - Debian packages: postgresql redis-server skopeo podman buildah docker-registry
#   - Go tools into ${BERTH_TOOLS_DIR:-$HOME/.cache/berth-tools}/bin:
#       crane        github.com/google/go-containerregistry/cmd/crane
#       oras         oras.land/oras/cmd/oras
#       conformance  github.com/opencontainers/distribution-spec/conformance (OCI conformance suite)
#   - a rootful vfs containers configuration for podman/buildah in the tools dir
#     (the tests pass --storage-driver vfs --root/--runroot themselves; this file only
#     makes `podman`/`buildah` usable in a container without systemd).
#
# Idempotent: every step is skipped when its output exists and matches the pinned version.
# Quiet unless something is installed (one line per install) or a step fails (its log is shown).
#
# Environment:
#   BERTH_TOOLS_DIR        where Go tools are installed (default: $HOME/.cache/berth-tools)
#   CRANE_VERSION          default v0.22.1
#   ORAS_VERSION           default v1.3.6
#   CONFORMANCE_VERSION    default v0.0.0-20260831232431-97274622c111 (distribution-spec main);
#                          "latest" resolves the newest version the Go module proxy serves
#   BERTH_SKIP_APT=1       skip the Debian package step (e.g. on a non-root developer machine)
set -euo pipefail

TOOLS_DIR="${BERTH_TOOLS_DIR:-$HOME/.cache/berth-tools}"
BIN_DIR="$TOOLS_DIR/bin"
STAMP_DIR="$TOOLS_DIR/stamps"
CRANE_VERSION="${CRANE_VERSION:-v0.22.1}"
ORAS_VERSION="${ORAS_VERSION:-v1.3.6}"
CONFORMANCE_VERSION="${CONFORMANCE_VERSION:-v0.0.0-20260831232431-97274622c111}"
CONFORMANCE_MODULE="github.com/opencontainers/distribution-spec/conformance"
APT_PACKAGES=(postgresql redis-server skopeo podman buildah docker-registry)

log() { printf 'setup-tools: %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# run_logged DESCRIPTION CMD... : runs CMD with output captured; prints the output on failure.
run_logged() {
  local desc="$1"
  shift
  local out
  out="$(mktemp)"
  local start=$SECONDS
  if ! "$@" >"$out" 2>&1; then
    log "FAILED: $desc"
    cat "$out" >&2
    rm -f "$out"
    exit 1
  fi
  rm -f "$out"
  log "$desc: done in $((SECONDS - start))s"
}

mkdir -p "$BIN_DIR" "$STAMP_DIR"

# ---------------------------------------------------------------- Debian packages
install_apt() {
  if [[ "${BERTH_SKIP_APT:-0}" == "1" ]]; then
    return
  fi
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return
  fi
  [[ "$(id -u)" == "0" ]] || die "missing Debian packages (${missing[*]}); run as root or install them"
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  run_logged "apt-get update" apt-get update
  run_logged "apt-get install ${missing[*]}" \
    apt-get install -y --no-install-recommends "${missing[@]}" ca-certificates
  # The packaged services are not used by the tests (they start private instances bound to
  # 127.0.0.1 on their own ports); stop any that the package scripts started.
  local svc
  for svc in postgresql redis-server docker-registry; do
    if command -v service >/dev/null 2>&1; then
      service "$svc" stop >/dev/null 2>&1 || true
    fi
  done
}

# ---------------------------------------------------------------- Go toolchain
find_go() {
  if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
    export PATH="/usr/local/go/bin:$PATH"
  fi
  command -v go >/dev/null 2>&1 || die "Go >= 1.24 is required to build crane/oras/conformance (not found in PATH)"
  local v
  v="$(go env GOVERSION)" # e.g. go1.26.8
  local minor="${v#go1.}"
  minor="${minor%%.*}"
  if [[ "$minor" =~ ^[0-9]+$ ]] && ((minor < 24)); then
    die "Go >= 1.24 is required, found $v"
  fi
}

# stamp_ok NAME WANT BINARY : true when BINARY exists and NAME was built at version WANT
stamp_ok() {
  [[ -x "$3" && -f "$STAMP_DIR/$1" && "$(cat "$STAMP_DIR/$1")" == "$2" ]]
}

go_install_tool() {
  local name="$1" pkg="$2" version="$3"
  local want="$pkg@$version"
  if stamp_ok "$name" "$want" "$BIN_DIR/$name"; then
    return
  fi
  log "installing $name ($want) into $BIN_DIR"
  run_logged "go install $want" env GOBIN="$BIN_DIR" CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go install -trimpath "$want"
  printf '%s\n' "$want" >"$STAMP_DIR/$name"
}

# The conformance suite on distribution-spec main is a `package main` program (main.go); the
# old `go test -c` entry point (legacy_test.go) still exists but is deprecated upstream and
# marks the report as "legacy". Upstream's README says `go build -o conformance .`, so we build
# the program in a scratch module that requires the pinned version and inject the version into
# main.Version (shown as "Conformance Commit" in the report).
build_conformance() {
  local version="$CONFORMANCE_VERSION"
  local mod_dir="$TOOLS_DIR/conformance-src"
  if [[ "$version" == "latest" || "$version" == "main" ]]; then
    version="$(cd "$TOOLS_DIR" && GOFLAGS=-mod=mod go list -m -f '{{.Version}}' "$CONFORMANCE_MODULE@latest")"
  fi
  local want="$CONFORMANCE_MODULE@$version"
  if stamp_ok conformance "$want" "$BIN_DIR/conformance"; then
    return
  fi
  log "building OCI conformance suite ($want) into $BIN_DIR/conformance"
  rm -rf "$mod_dir"
  mkdir -p "$mod_dir"
  (
    cd "$mod_dir"
    run_logged "go mod init" go mod init berth.local/conformance-runner
    run_logged "go get $want" go get "$want"
    run_logged "go build conformance" env CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
      go build -trimpath -ldflags "-X main.Version=$version" -o "$BIN_DIR/conformance" \
      "$CONFORMANCE_MODULE"
  )
  printf '%s\n' "$want" >"$STAMP_DIR/conformance"
}

# ---------------------------------------------------------------- containers config
# podman/buildah as root in a container without systemd: cgroupfs + file events logger.
# Tests point CONTAINERS_CONF at this file and pass --storage-driver vfs --root --runroot, so the
# host's /etc/containers and /var/lib/containers are not touched. Plain-http registries on
# 127.0.0.1 are reached with --tls-verify=false, so registries.conf needs no insecure entry.
write_containers_conf() {
  local conf="$TOOLS_DIR/containers.conf"
  local content
  content="$(
    cat <<'EOF'
# Written by scripts/setup-tools.sh for the Berth e2e tests (rootful, no systemd).
[containers]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "crun"
EOF
  )"
  if [[ -f "$conf" && "$(cat "$conf")" == "$content" ]]; then
    return
  fi
  printf '%s\n' "$content" >"$conf"
  log "wrote $conf"
}

install_apt
find_go
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
go_install_tool crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
go_install_tool oras oras.land/oras/cmd/oras "$ORAS_VERSION"
build_conformance
write_containers_conf
