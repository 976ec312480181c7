#!/usr/bin/env bash
# Builds the local control plane binaries once and caches them OUTSIDE the repo:
#
#   ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/cluster/<version-key>/bin/
#     kube-apiserver kube-controller-manager kube-scheduler kubectl   (k8s.io/kubernetes, wrapper module hack/cluster/k8s)
#     etcd                                                            (go.etcd.io/etcd/server/v3, wrapper module hack/cluster/etcd)
#     kwok                                                            (sigs.k8s.io/kwok/cmd/kwok, go install @version)
#   and, only with --node (the node tier: one real kubelet on containerd):
#     kubelet kube-proxy                                              (k8s.io/kubernetes, the same wrapper module)
#     coredns                                                         (github.com/coredns/coredns, wrapper module hack/cluster/coredns)
#
# Sources come only from the Go module proxy through the ordinary `go` client; go.sum files are committed.
# Idempotent: every group is skipped when its binaries are present. Progress goes to stderr.
#
#   bash hack/cluster/build.sh             build what is missing, print the bin dir on stdout
#   bash hack/cluster/build.sh --node      the same, plus the node group (kubelet, kube-proxy, coredns)
#   bash hack/cluster/build.sh --print-dir print the bin dir without building (exit 1 if incomplete);
#                                          with --node also requires the node group
#
# See docs/control-plane.md for versions, measured build times and disk use.
set -euo pipefail

K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.16   # must match hack/cluster/etcd/go.mod
KWOK_VERSION=v0.8.0
COREDNS_VERSION=v1.15.0  # must match hack/cluster/coredns/go.mod

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[cluster:build] %s\n' "$*" >&2; }
die() { printf '[cluster:build] ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH (need Go >= 1.26)"
GO_VERSION="$(go env GOVERSION)"
KEY="${GO_VERSION}-k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}-kwok-${KWOK_VERSION}"
ROOT="${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/cluster/${KEY}"
OUT="$ROOT/bin"

K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
NODE_K8S_BINS=(kubelet kube-proxy)
ALL_BINS=("${K8S_BINS[@]}" etcd kwok)

print_dir=0 node=0
for a in "$@"; do
  case "$a" in
    --print-dir) print_dir=1 ;;
    --node) node=1 ;;
    *) die "unknown argument '$a' (use --node and/or --print-dir)" ;;
  esac
done

have() { local b; for b in "$@"; do [ -x "$OUT/$b" ] || return 1; done; }
# The version key of the dir predates the node group, so coredns is checked by its own version output.
have_coredns() { # (no pipe into grep -q: with pipefail, coredns's SIGPIPE would count as failure)
  [ -x "$OUT/coredns" ] || return 1
  local v; v="$("$OUT/coredns" -version 2>/dev/null)" || return 1
  [[ $'\n'"$v"$'\n' == *$'\n'"CoreDNS-${COREDNS_VERSION#v}"$'\n'* ]]
}
have_all() { have "${ALL_BINS[@]}" || return 1; [ "$node" = 0 ] || { have "${NODE_K8S_BINS[@]}" && have_coredns; }; }

if [ "$print_dir" = 1 ]; then
  have_all || { log "binaries missing in $OUT; run: bash hack/cluster/build.sh$([ "$node" = 0 ] || echo ' --node')"; exit 1; }
  printf '%s\n' "$OUT"; exit 0
fi

case "$ROOT" in "$(cd "$HERE/../.." && pwd)"/*) die "cache dir $ROOT is inside the repo; set CDK8S_DASK_CACHE elsewhere";; esac

if have_all; then
  log "cached: $OUT"
  printf '%s\n' "$OUT"; exit 0
fi

mkdir -p "$OUT"
# Each group builds into a scratch dir next to bin/ and is moved in only when complete, so an
# interrupted build never leaves a half-written binary that a later run would mistake for a cache hit.
SCRATCH="$(mktemp -d "$ROOT/.build.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT

timed() { # label, command...
  local label="$1" t0=$SECONDS; shift
  log "building $label ..."
  "$@" || die "$label: build failed (see the go output above)"
  log "built $label in $((SECONDS - t0))s"
}

k8s_ldflags() {
  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local ld="-s -w" p
  # The same variables upstream's hack/lib/version.sh sets; without them /version says v0.0.0-master.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$ld"
}

build_k8s_cmds() { # binary names (each is k8s.io/kubernetes/cmd/<name>); one `go build`, so shared packages compile once
  local p pkgs=()
  for p in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$p"); done
  (cd "$HERE/k8s" && go build -trimpath -tags=notest,grpcnotrace -ldflags="$(k8s_ldflags)" -o "$SCRATCH/" "${pkgs[@]}")
  for p in "$@"; do mv -f "$SCRATCH/$p" "$OUT/$p"; done
}

build_k8s() { build_k8s_cmds "${K8S_BINS[@]}"; }
build_node_k8s() { build_k8s_cmds "${NODE_K8S_BINS[@]}"; }

build_coredns() {
  grep -q "github.com/coredns/coredns ${COREDNS_VERSION}" "$HERE/coredns/go.mod" \
    || die "hack/cluster/coredns/go.mod does not require github.com/coredns/coredns ${COREDNS_VERSION}"
  (cd "$HERE/coredns" && go build -trimpath -ldflags='-s -w' -o "$SCRATCH/coredns" .)
  mv -f "$SCRATCH/coredns" "$OUT/coredns"
}

build_etcd() {
  grep -q "go.etcd.io/etcd/server/v3 ${ETCD_VERSION}" "$HERE/etcd/go.mod" \
    || die "hack/cluster/etcd/go.mod does not require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}"
  # -o is required: the main package's import path ends in /v3.
  (cd "$HERE/etcd" && go build -trimpath -ldflags='-s -w' -o "$SCRATCH/etcd" go.etcd.io/etcd/server/v3)
  mv -f "$SCRATCH/etcd" "$OUT/etcd"
}

build_kwok() {
  # kwok's go.mod has no replace directives, so a plain `go install pkg@version` works (checked against sum.golang.org).
  (cd "$SCRATCH" && GOBIN="$SCRATCH" go install -trimpath -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}")
  mv -f "$SCRATCH/kwok" "$OUT/kwok"
}

T0=$SECONDS
log "cache: $ROOT"
have "${K8S_BINS[@]}" || timed "kubernetes ${K8S_VERSION} (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)" build_k8s
have etcd || timed "etcd ${ETCD_VERSION}" build_etcd
have kwok || timed "kwok ${KWOK_VERSION}" build_kwok
if [ "$node" = 1 ]; then
  have "${NODE_K8S_BINS[@]}" || timed "kubernetes ${K8S_VERSION} node (kubelet, kube-proxy)" build_node_k8s
  have_coredns || timed "coredns ${COREDNS_VERSION}" build_coredns
fi
have_all || die "binaries still missing in $OUT after the build"
"$OUT/kube-apiserver" --version >&2
log "done in $((SECONDS - T0))s; $(du -sh "$OUT" | cut -f1) of binaries in $OUT"
printf '%s\n' "$OUT"
