#!/usr/bin/env bash
# Fetches the real CRDs of the projects cdk8s-dask composes with, from their Go modules on the Go module proxy
# (the ordinary `go mod download`; each module zip is checked against the h1: sum pinned below), and copies the
# CRD files into a cache dir OUTSIDE the repo (nothing of theirs is committed here):
#
#   ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/crds/<hash of the pins>/<group>_<plural>.yaml  (+ sources.json)
#
#   bash hack/crds/fetch.sh               fetch what is missing, print the dir on stdout
#   bash hack/crds/fetch.sh --print-dir   print the dir without fetching (exit 1 if incomplete)
#
# Used by the schema tests of the monitoring constructs and the GitOps example (test/construct/thirdparty-*.test.ts,
# test/integration/thirdparty-dry-run.test.ts).
set -euo pipefail

# module@version  h1-sum  file-in-module  [crd name to extract; else the file is one CRD]
PINS=(
  "github.com/prometheus-operator/prometheus-operator@v0.94.0 h1:VxMKzqr8Xqw5/QInNT7a3B5XInPnHqE7SD2UIdwKpRM= example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"
  "github.com/prometheus-operator/prometheus-operator@v0.94.0 h1:VxMKzqr8Xqw5/QInNT7a3B5XInPnHqE7SD2UIdwKpRM= example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml"
  "istio.io/api@v1.32.0 h1:37mJvg9I0biYZAEQF+MATs4FNeCpXEIVO3LFpVb6iNM= kubernetes/customresourcedefinitions.gen.yaml virtualservices.networking.istio.io"
  "istio.io/api@v1.32.0 h1:37mJvg9I0biYZAEQF+MATs4FNeCpXEIVO3LFpVb6iNM= kubernetes/customresourcedefinitions.gen.yaml destinationrules.networking.istio.io"
  "istio.io/api@v1.32.0 h1:37mJvg9I0biYZAEQF+MATs4FNeCpXEIVO3LFpVb6iNM= kubernetes/customresourcedefinitions.gen.yaml peerauthentications.security.istio.io"
  "github.com/cert-manager/cert-manager@v1.21.2 h1:UWgoYM+KLNtRlqmoWOKjKBOBUPVHeepQ6/ac3ERJW68= deploy/crds/cert-manager.io_certificates.yaml"
  "github.com/argoproj/argo-cd/v3@v3.5.7 h1:Xm1BF+I5OgDKUG3SDK49vn2/Y5AMyaNVko+/JT08gj0= manifests/crds/application-crd.yaml"
)

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GOWORK=off GOTOOLCHAIN=local GOFLAGS=-mod=mod
log() { printf '[crds:fetch] %s\n' "$*" >&2; }
die() { printf '[crds:fetch] ERROR: %s\n' "$*" >&2; exit 1; }

KEY="$(printf '%s\n' "${PINS[@]}" | cat - "$HERE/split.js" | sha256sum | cut -c1-12)"
OUT="${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/crds/$KEY"
if [ -f "$OUT/sources.json" ]; then
  [ "${1:-}" = "--print-dir" ] || log "cached: $OUT"
  printf '%s\n' "$OUT"; exit 0
fi
[ "${1:-}" = "--print-dir" ] && { log "missing $OUT; run: bash hack/crds/fetch.sh"; exit 1; }
command -v go >/dev/null || die "go is not on PATH (need Go >= 1.26)"
command -v node >/dev/null || die "node is not on PATH"

mkdir -p "$(dirname "$OUT")"
SCRATCH="$(mktemp -d "$(dirname "$OUT")/.fetch.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
declare -A DIRS=()
sources="["
for pin in "${PINS[@]}"; do
  read -r mod sum file name <<<"$pin"
  if [ -z "${DIRS[$mod]:-}" ]; then
    t0=$SECONDS
    log "go mod download $mod ..."
    json="$(cd "$SCRATCH" && go mod download -json "$mod")" || die "go mod download $mod failed"
    got="$(node -e 'const j=JSON.parse(process.argv[1]); if (j.Error) { console.error(j.Error); process.exit(1) } console.log(j.Sum + " " + j.Dir)' "$json")" || die "$mod: $json"
    [ "${got%% *}" = "$sum" ] || die "$mod: module sum ${got%% *} is not the pinned $sum"
    DIRS[$mod]="${got#* }"
    log "  $mod in $((SECONDS - t0))s"
  fi
  node "$HERE/split.js" "${DIRS[$mod]}/$file" "$SCRATCH" ${name:+"$name"} || die "$mod: could not take $file"
  sources+="{\"module\":\"$mod\",\"file\":\"$file\"${name:+,\"crd\":\"$name\"}},"
done
printf '%s]\n' "${sources%,}" >"$SCRATCH/sources.json"
rm -rf "$OUT"; mv "$SCRATCH" "$OUT"; trap - EXIT
log "CRDs in $OUT: $(cd "$OUT" && ls *.yaml | tr '\n' ' ')"
printf '%s\n' "$OUT"
