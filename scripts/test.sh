#!/usr/bin/env bash
# The test command (`npm test`): installs the tools the tests need, builds, lints, starts the
# real services (PostgreSQL, Redis, an S3 server) and runs every test tier in one node:test run:
# unit (*.spec, also the bench report's), integration (*.int-spec: PostgreSQL, Redis, filesystem, S3) and end-to-end
# (*.e2e-spec: skopeo, podman, buildah, crane, oras, the OCI conformance suite, crash test).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export BERTH_SERVICES_DIR="${BERTH_SERVICES_DIR:-$ROOT/.test-services}"
export BERTH_TOOLS_DIR="${BERTH_TOOLS_DIR:-$HOME/.cache/berth-tools}"
export CONFORMANCE_OUT="${CONFORMANCE_OUT:-$ROOT/artifacts/conformance}"

step() { printf '\n==> %s\n' "$*"; }

step "tools (apt packages, crane, oras, conformance suite, S3 server)"
bash scripts/setup-tools.sh
bash scripts/s3-server.sh install

step "build"
npx tsc -b tsconfig.build.json
npx tsc -p bench/tsconfig.json

step "format and lint"
npx prettier --check . >/dev/null || { npx prettier --list-different .; exit 1; }
npx eslint --max-warnings=0 .

step "services"
cleanup() {
  bash scripts/redis-server.sh stop || true
  bash scripts/s3-server.sh stop || true
  bash scripts/pg-server.sh stop || true
}
trap cleanup EXIT
# `eval "$(...)"` would hide a failed start: capture first, so `set -e` stops the run.
pg_env="$(bash scripts/pg-server.sh start)"
eval "$pg_env"
s3_env="$(bash scripts/s3-server.sh start)"
eval "$s3_env"
redis_env="$(bash scripts/redis-server.sh start)"
eval "$redis_env"

step "tests"
mapfile -t unit < <(find libs apps bench -path '*/dist/*' -name '*.spec.js' -not -path '*/node_modules/*' | sort)
mapfile -t integration < <(find libs apps -path '*/dist/*' -name '*.int-spec.js' -not -path '*/node_modules/*' | sort)
mapfile -t e2e < <(find e2e/dist -name '*.e2e-spec.js' | sort)
node --test --test-reporter=spec --test-concurrency=1 \
  tools/lint/module-boundaries.spec.mjs tools/lint/registry-image.spec.mjs "${unit[@]}" "${integration[@]}" "${e2e[@]}"
