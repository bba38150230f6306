#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite against a running registry with every API
# and data toggle of the suite turned on, and fails unless every test passed.
#
#   scripts/conformance.sh http://127.0.0.1:5000
#
# Writes results.yaml, report.html and junit.xml to ${CONFORMANCE_OUT:-./artifacts/conformance}
# and prints "conformance: tests=N passed=N failures=N errors=N skipped=N disabled=N".
# Exit status: 0 only when failures, errors, skipped and disabled are all 0.
#
# The suite binary is built by scripts/setup-tools.sh (${BERTH_TOOLS_DIR:-$HOME/.cache/berth-tools}/bin/conformance,
# override with CONFORMANCE_BIN). It is configured through its current (non-legacy) variables,
# OCI_REGISTRY/OCI_TLS/OCI_REPO1/OCI_REPO2/OCI_API_*/OCI_DATA_*; see docs/conformance.md for the
# list and for how the legacy OCI_ROOT_URL/OCI_NAMESPACE/OCI_TEST_* names map onto them.
# Any OCI_* variable already set in the caller's environment overrides the defaults below
# (e.g. OCI_API_REFERRER=false to run against a registry without the referrers API).
set -euo pipefail

usage() {
  echo "usage: $0 URL   (e.g. http://127.0.0.1:5000)" >&2
  exit 2
}
[[ $# -eq 1 ]] || usage
URL="${1%/}"

TOOLS_DIR="${BERTH_TOOLS_DIR:-$HOME/.cache/berth-tools}"
BIN="${CONFORMANCE_BIN:-$TOOLS_DIR/bin/conformance}"
OUT="${CONFORMANCE_OUT:-./artifacts/conformance}"
[[ -x "$BIN" ]] || {
  echo "conformance: $BIN not found; run scripts/setup-tools.sh" >&2
  exit 2
}

case "$URL" in
  http://*) tls=disabled host="${URL#http://}" ;;
  https://*) tls="${CONFORMANCE_TLS:-enabled}" host="${URL#https://}" ;; # CONFORMANCE_TLS=insecure for self-signed
  *) usage ;;
esac
host="${host%%/*}"

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -f "$OUT/results.yaml" "$OUT/report.html" "$OUT/junit.xml"

# set_default NAME VALUE: export NAME=VALUE unless the caller already set NAME
set_default() {
  if [[ -z "${!1:-}" ]]; then
    export "$1=$2"
  fi
}

# Do not let a stray oci-conformance.yaml in the working directory change the run.
export OCI_CONFIGURATION="${OCI_CONFIGURATION:-/dev/null}"
# Legacy variables (OCI_ROOT_URL, OCI_NAMESPACE, OCI_CROSSMOUNT_NAMESPACE, OCI_TEST_*) are still
# read by the suite but deprecated; the current names below take precedence over them anyway.
unset OCI_ROOT_URL OCI_NAMESPACE OCI_CROSSMOUNT_NAMESPACE OCI_TEST_PULL OCI_TEST_PUSH \
  OCI_TEST_CONTENT_DISCOVERY OCI_TEST_CONTENT_MANAGEMENT OCI_DEBUG

# --- target and process settings
export OCI_REGISTRY="$host"
export OCI_TLS="$tls"
export OCI_RESULTS_DIR="$OUT"
set_default OCI_VERSION dev # "1.1+dev": the newest spec the suite knows (enables the dev-only APIs by default)
set_default OCI_REPO1 conformance/a # legacy OCI_NAMESPACE
set_default OCI_REPO2 conformance/b # legacy OCI_CROSSMOUNT_NAMESPACE (cross-repository mount source/target)
set_default OCI_LOG warn
set_default OCI_CACHE_AUTH true

# --- API toggles (every one on)
set_default OCI_API_PING true                    # GET /v2/
set_default OCI_API_PULL true                    # legacy OCI_TEST_PULL
set_default OCI_API_PUSH true                    # legacy OCI_TEST_PUSH
set_default OCI_API_BLOBS_ATOMIC true            # blob delete visible immediately
set_default OCI_API_BLOBS_DELETE true            # legacy OCI_TEST_CONTENT_MANAGEMENT
set_default OCI_API_BLOBS_DIGEST_HEADER true     # Docker-Content-Digest required on blob responses
set_default OCI_API_BLOBS_MOUNT_ANONYMOUS true   # POST ?mount= without from= (automatic cross-mount)
set_default OCI_API_BLOBS_UPLOAD_CANCEL true     # DELETE of a running upload session
set_default OCI_API_MANIFESTS_ATOMIC true        # manifest delete visible immediately
set_default OCI_API_MANIFESTS_DELETE true        # legacy OCI_TEST_CONTENT_MANAGEMENT
set_default OCI_API_MANIFESTS_DIGEST_HEADER true # Docker-Content-Digest required on manifest responses
set_default OCI_API_MANIFESTS_TAG_PARAM true     # PUT manifests/<digest>?tag=a&tag=b
set_default OCI_API_TAGS_ATOMIC true             # tag delete visible immediately
set_default OCI_API_TAGS_DELETE true             # legacy OCI_TEST_CONTENT_MANAGEMENT
set_default OCI_API_TAGS_LIST true               # legacy OCI_TEST_CONTENT_DISCOVERY
set_default OCI_API_REFERRER true                # referrers API, legacy OCI_TEST_CONTENT_DISCOVERY

# --- data toggles (every one on)
set_default OCI_DATA_IMAGE true            # required by every other data test
set_default OCI_DATA_INDEX true            # multi-platform index
set_default OCI_DATA_INDEX_LIST true       # nested index
set_default OCI_DATA_SPARSE true           # manifests whose blobs or children were not pushed (REGISTRY_SPARSE_MANIFESTS=true)
set_default OCI_DATA_ARTIFACT true         # image manifest with artifactType
set_default OCI_DATA_SUBJECT true          # manifests with subject (referrers)
set_default OCI_DATA_SUBJECT_MISSING true  # subject pointing at a digest that does not exist
set_default OCI_DATA_ARTIFACT_LIST true    # index with artifactType
set_default OCI_DATA_SUBJECT_LIST true     # index with subject
set_default OCI_DATA_DATA_FIELD true       # descriptors with the data field
set_default OCI_DATA_NONDISTRIBUTABLE true # non-distributable layers that are never pushed
set_default OCI_DATA_CUSTOM_FIELDS true    # extra JSON fields in manifest/config
set_default OCI_DATA_NO_LAYERS true        # image manifest with an empty layers list
set_default OCI_DATA_EMPTY_BLOB true       # zero byte blob
set_default OCI_DATA_SHA512 true           # blobs and manifests addressed by sha512

echo "conformance: running $BIN against $URL (registry=$OCI_REGISTRY tls=$OCI_TLS) -> $OUT" >&2
set +e
"$BIN" >"$OUT/conformance.log" 2>&1
rc=$?
set -e
# the summary table is useful in CI logs; the full request/response log is in report.html
grep -E '^[A-Z].*:$|\.{2,}:' "$OUT/conformance.log" >&2 || true

if [[ ! -s "$OUT/junit.xml" ]]; then
  echo "conformance: $OUT/junit.xml was not written (suite exit $rc):" >&2
  tail -n 40 "$OUT/conformance.log" >&2
  exit 1
fi

# attr NAME: attribute NAME of the top-level <testsuites> element (absent = 0, the suite omits zeros)
suites_tag="$(grep -o -m1 '<testsuites[^>]*>' "$OUT/junit.xml" || true)"
attr() {
  local v
  v="$(printf '%s' "$suites_tag" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]\+' || true)"
  printf '%s' "${v:-0}"
}
tests="$(attr tests)"
failures="$(attr failures)"
errors="$(attr errors)"
skipped="$(attr skipped)"
disabled="$(attr disabled)"
cases="$(grep -c '<testcase ' "$OUT/junit.xml" || true)"
passed_cases="$(grep -c '<testcase [^>]*status="passed"' "$OUT/junit.xml" || true)"
echo "conformance: tests=$tests passed=$passed_cases/$cases failures=$failures errors=$errors skipped=$skipped disabled=$disabled (suite exit $rc)"
echo "conformance: reports in $OUT (results.yaml, report.html, junit.xml, conformance.log)" >&2

if [[ "$tests" == "0" || "$failures" != "0" || "$errors" != "0" || "$skipped" != "0" || "$disabled" != "0" || "$rc" != "0" ]]; then
  exit 1
fi
