#!/usr/bin/env bash
# Builds argocd-health (hack/argocd/main.go: Argo CD's health-check Lua environment on gopher-lua, from the Go module
# proxy; go.mod + go.sum committed) and caches it OUTSIDE the repo, keyed by a hash of its sources:
#
#   ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/tools/<go version>-argocd-health-<hash>/argocd-health
#
#   bash hack/argocd/build.sh               build if missing, print the binary's path on stdout
#   bash hack/argocd/build.sh --print-path  print the path without building (exit 1 if missing)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
log() { printf '[argocd-health:build] %s\n' "$*" >&2; }
die() { printf '[argocd-health:build] ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH (need Go >= 1.26)"
HASH="$(cat "$HERE/main.go" "$HERE/go.mod" "$HERE/go.sum" | sha256sum | cut -c1-12)"
OUT="${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/tools/$(go env GOVERSION)-argocd-health-${HASH}"
BIN="$OUT/argocd-health"

if [ "${1:-}" = "--print-path" ]; then
  [ -x "$BIN" ] || { log "missing $BIN; run: bash hack/argocd/build.sh"; exit 1; }
  printf '%s\n' "$BIN"; exit 0
fi
if [ -x "$BIN" ]; then
  log "cached: $BIN"
  printf '%s\n' "$BIN"; exit 0
fi
mkdir -p "$OUT"
SCRATCH="$(mktemp -d "$OUT/.build.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
t0=$SECONDS
log "building argocd-health (gopher-lua) ..."
(cd "$HERE" && go build -trimpath -ldflags '-s -w' -o "$SCRATCH/argocd-health" .) || die "build failed (see the go output above)"
mv -f "$SCRATCH/argocd-health" "$BIN"
log "built in $((SECONDS - t0))s: $BIN"
printf '%s\n' "$BIN"
