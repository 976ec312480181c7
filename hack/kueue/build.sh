#!/usr/bin/env bash
# Builds Kueue's controller manager once and caches it OUTSIDE the repo, with the CRDs and webhook manifests of the
# same module version (what the Kueue integration tests install and run against the local control plane):
#
#   ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/kueue/<go version>-kueue-<v>/
#     bin/kueue                 sigs.k8s.io/kueue/cmd/kueue, built from the wrapper module hack/kueue (go.mod + go.sum committed)
#     crds/*.yaml               config/components/crd/bases of the same module
#     webhook/manifests.yaml    config/components/webhook/manifests.yaml of the same module
#
# Sources come only from the Go module proxy through the ordinary `go` client. Idempotent: skipped when everything is
# present. Progress goes to stderr; the cache dir goes to stdout.
#
#   bash hack/kueue/build.sh             build what is missing, print the cache dir
#   bash hack/kueue/build.sh --print-dir print the cache dir without building (exit 1 if incomplete)
#
# See docs/kueue.md for the measured build times.
set -euo pipefail

KUEUE_VERSION=v0.19.2   # must match hack/kueue/go.mod

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[kueue:build] %s\n' "$*" >&2; }
die() { printf '[kueue:build] ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH (need Go >= 1.26)"
KEY="$(go env GOVERSION)-kueue-${KUEUE_VERSION}"
ROOT="${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/kueue/${KEY}"

complete() { [ -x "$ROOT/bin/kueue" ] && [ -s "$ROOT/webhook/manifests.yaml" ] && compgen -G "$ROOT/crds/*.yaml" >/dev/null; }

if [ "${1:-}" = "--print-dir" ]; then
  complete || { log "Kueue missing in $ROOT; run: bash hack/kueue/build.sh"; exit 1; }
  printf '%s\n' "$ROOT"; exit 0
fi
case "$ROOT" in "$(cd "$HERE/../.." && pwd)"/*) die "cache dir $ROOT is inside the repo; set CDK8S_DASK_CACHE elsewhere";; esac
if complete; then
  log "cached: $ROOT"
  printf '%s\n' "$ROOT"; exit 0
fi

grep -q "sigs.k8s.io/kueue ${KUEUE_VERSION}" "$HERE/go.mod" || die "hack/kueue/go.mod does not require sigs.k8s.io/kueue ${KUEUE_VERSION}"
mkdir -p "$ROOT"
SCRATCH="$(mktemp -d "$ROOT/.build.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
T0=$SECONDS
log "building Kueue ${KUEUE_VERSION} (sigs.k8s.io/kueue/cmd/kueue) into $ROOT; the first build takes minutes (docs/kueue.md) ..."
# go build is silent while it compiles: say every 30 s that it still runs.
( while sleep 30; do log "still building ($((SECONDS - T0))s so far)"; done ) &
HEARTBEAT=$!
trap 'kill "$HEARTBEAT" 2>/dev/null || true; rm -rf "$SCRATCH"' EXIT
(cd "$HERE" && go build -trimpath -ldflags='-s -w' -o "$SCRATCH/kueue" sigs.k8s.io/kueue/cmd/kueue) || die "go build failed (see the go output above)"
kill "$HEARTBEAT" 2>/dev/null || true
log "built the kueue binary in $((SECONDS - T0))s"
MOD="$(cd "$HERE" && go list -m -f '{{.Dir}}' sigs.k8s.io/kueue)"
[ -d "$MOD/config/components/crd/bases" ] || die "no CRDs in $MOD"
mkdir -p "$SCRATCH/crds" "$SCRATCH/webhook"
cp "$MOD"/config/components/crd/bases/*.yaml "$SCRATCH/crds/"
cp "$MOD/config/components/webhook/manifests.yaml" "$SCRATCH/webhook/manifests.yaml"
chmod -R u+w "$SCRATCH"
mkdir -p "$ROOT/bin"
rm -rf "$ROOT/crds" "$ROOT/webhook"
mv "$SCRATCH/crds" "$SCRATCH/webhook" "$ROOT/"
mv -f "$SCRATCH/kueue" "$ROOT/bin/kueue"
complete || die "Kueue still incomplete in $ROOT after the build"
log "done in $((SECONDS - T0))s; $(du -sh "$ROOT/bin/kueue" | cut -f1) binary, $(ls "$ROOT/crds" | wc -l) CRDs"
printf '%s\n' "$ROOT"
