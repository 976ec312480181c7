#!/usr/bin/env bash
# Builds the operator image from the repository's own Dockerfile with buildah (no container engine, no registry),
# as an OCI layout. Called by hack/images/build.sh as  operator/build.sh LAYOUT_DIR SCRATCH_DIR REF  with REPO,
# CACHE and NODE_ARCHIVE (the locally built node:24-slim stand-in) set.
#
# - The build context is a copy of exactly the files the Dockerfile copies (what the cache key hashes).
# - buildah's storage lives in $CACHE/buildah (kept between runs: the base image and the layer cache, so a source
#   change does not repeat `npm ci`); its runroot is scratch space, removed with it. Everything runs in a private
#   mount namespace, so no mount outlives the build.
# - `FROM node:24-slim` resolves to the local stand-in (--pull=never). RUN steps use chroot isolation and the host
#   network; npm inside trusts the host's CA bundle through a global npmrc bind-mounted over /usr/local/etc for the
#   build only (nothing of it lands in a layer).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
layout="$1" work="$2"
shift 2
: "${REPO:?}" "${CACHE:?}" "${NODE_ARCHIVE:?}"
BASE_REF=docker.io/library/node:24-slim
# buildah's storage grows with each source change (one cache image per changed step); past this it is pruned.
PRUNE_MB="${CDK8S_DASK_BUILDAH_PRUNE_MB:-4096}"

if [ "${_IMG_IN_NS:-}" != 1 ]; then
  _IMG_IN_NS=1 exec unshare --mount --propagation private -- bash "${BASH_SOURCE[0]}" "$layout" "$work" "$@"
fi

# Host paths buildah (containers/image, containers/common) creates as root whatever its configuration says: the
# blob info cache, netavark's lock and run directory. Those this build created are removed again on the way out.
created=()
for p in /var/lib/containers /run/containers /etc/containers/networks; do [ -e "$p" ] || created+=("$p"); done
remove_created() {
  local p
  for p in "${created[@]}"; do
    case "$p" in
      /var/lib/containers) rm -f "$p/cache/blob-info-cache-v1.boltdb" ;;
      /etc/containers/networks) rm -f "$p/netavark.lock" ;;
    esac
    [ ! -d "$p" ] || find "$p" -depth -type d -empty -delete 2>/dev/null || true
    [ ! -e "$p" ] || img_log "operator: left $p (not empty)"
  done
}
trap remove_created EXIT

store="$CACHE/buildah"
runroot="$work/runroot"
mkdir -p "$store" "$runroot" "$work/context" "$work/npm-etc"

# Private containers config: nothing from the host's /etc/containers changes the result.
cat >"$work/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$store"
runroot = "$runroot"
EOF
cat >"$work/registries.conf" <<'EOF'
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$work/policy.json"
export CONTAINERS_STORAGE_CONF="$work/storage.conf" CONTAINERS_REGISTRIES_CONF="$work/registries.conf"
export BUILDAH_ISOLATION=chroot TMPDIR="$work"
B=(buildah --root "$store" --runroot "$runroot" --storage-driver overlay)

# Build context: the Dockerfile and what it copies, nothing else.
cp "$REPO/Dockerfile" "$work/context/"
mapfile -t sources < <(dockerfile_sources "$REPO/Dockerfile" | sort -u)
context_files "$REPO" "${sources[@]}" | (cd "$REPO" && xargs -0 -r cp -a --parents -t "$work/context/")
# One fixed mtime: buildah's layer cache keys COPY steps on file metadata too, so a checkout's fresh mtimes would
# otherwise repeat `npm ci` for an unchanged package-lock.json.
find "$work/context" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

host_ca=/etc/ssl/certs/ca-certificates.crt
cp "$host_ca" "$work/npm-etc/host-ca.pem"
echo "cafile=/usr/local/etc/host-ca.pem" >"$work/npm-etc/npmrc"

# Working containers of an interrupted earlier build.
"${B[@]}" rm --all >/dev/null 2>&1 || true

# The base: load the node:24-slim stand-in unless the very same image (same config digest = image ID) is there.
want_id="$(python3 - "$NODE_ARCHIVE" <<'PY'
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    idx = json.load(t.extractfile("index.json"))
    m = json.load(t.extractfile("blobs/sha256/" + idx["manifests"][0]["digest"].split(":")[1]))
print(m["config"]["digest"].split(":")[1])
PY
)"
have_id="$("${B[@]}" images --no-trunc --format '{{.ID}}' "$BASE_REF" 2>/dev/null | head -1 | sed 's/^sha256://')" || true
if [ "$have_id" != "$want_id" ]; then
  load_base() {
    local id
    id="$("${B[@]}" pull --quiet --signature-policy "$work/policy.json" "oci-archive:$NODE_ARCHIVE" | tail -1)"
    "${B[@]}" tag "$id" "$BASE_REF"
  }
  step "load $BASE_REF (local stand-in) into buildah storage" load_base
else
  img_log "operator: $BASE_REF already in buildah storage"
fi

step "buildah build (Dockerfile; npm ci, tsc, npm prune)" \
  "${B[@]}" build --isolation chroot --network host --pull=never --layers --format oci \
  --signature-policy "$work/policy.json" -v "$work/npm-etc:/usr/local/etc:ro" \
  -f "$work/context/Dockerfile" -t "$1" "$work/context"

refs=()
for r in "$@"; do refs+=(--ref "$r"); done
step "buildah push to an OCI layout" "${B[@]}" push --quiet --signature-policy "$work/policy.json" "$1" "oci:$layout"
python3 "$here/../oci.py" name --layout "$layout" "${refs[@]}" >/dev/null

used="$(du -sm "$store" | cut -f1)"
if [ "$used" -gt "$PRUNE_MB" ]; then
  step "prune buildah storage ($used MB > $PRUNE_MB MB: drops the layer cache)" "${B[@]}" rmi --prune
fi
img_log "operator: buildah storage $(du -sm "$store" | cut -f1) MB at $store"
