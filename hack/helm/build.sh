#!/usr/bin/env bash
# Builds the helm CLI once from the Go module proxy (wrapper module hack/helm: go.mod + go.sum committed, `tool`
# directive helm.sh/helm/v4/cmd/helm) and caches it OUTSIDE the repo:
#
#   ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/tools/<go version>-helm-<version>/helm
#
#   bash hack/helm/build.sh               build if missing, print the binary's path on stdout
#   bash hack/helm/build.sh --print-path  print the path without building (exit 1 if missing)
#
# Used by the Helm chart tests (test/integration/helm.test.ts). Measured in docs/gitops.md.
set -euo pipefail

HELM_VERSION=v4.3.2   # must match hack/helm/go.mod

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
log() { printf '[helm:build] %s\n' "$*" >&2; }
die() { printf '[helm:build] ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH (need Go >= 1.26)"
OUT="${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/tools/$(go env GOVERSION)-helm-${HELM_VERSION}"
BIN="$OUT/helm"

if [ "${1:-}" = "--print-path" ]; then
  [ -x "$BIN" ] || { log "missing $BIN; run: bash hack/helm/build.sh"; exit 1; }
  printf '%s\n' "$BIN"; exit 0
fi
if [ -x "$BIN" ]; then
  log "cached: $BIN"
  printf '%s\n' "$BIN"; exit 0
fi
grep -q "helm.sh/helm/v4 ${HELM_VERSION}" "$HERE/go.mod" || die "hack/helm/go.mod does not require helm.sh/helm/v4 ${HELM_VERSION}"
mkdir -p "$OUT"
SCRATCH="$(mktemp -d "$OUT/.build.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
t0=$SECONDS
log "building helm ${HELM_VERSION} (first use; a few minutes on 2 cores) ..."
(cd "$HERE" && go build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}" -o "$SCRATCH/helm" helm.sh/helm/v4/cmd/helm) \
  || die "helm: build failed (see the go output above)"
mv -f "$SCRATCH/helm" "$BIN"
log "built helm ${HELM_VERSION} in $((SECONDS - t0))s: $BIN"
printf '%s\n' "$BIN"
