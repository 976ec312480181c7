#!/usr/bin/env bash
# Builds the pause image's OCI layout: one static binary, /pause. Called by hack/images/build.sh as
#   pause/build.sh LAYOUT_DIR SCRATCH_DIR REF...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
layout="$1" work="$2"
shift 2
. "$here/version.env"

mkdir -p "$work/rootfs"
step "compile pause.c (gcc -static)" \
  gcc -static -O2 -Wall -Wextra -Werror -DPAUSE_VERSION="\"$PAUSE_VERSION\"" -o "$work/rootfs/pause" "$here/pause.c"
strip "$work/rootfs/pause"
chmod 0755 "$work/rootfs/pause"
step "layer tar" tar --sort=name --numeric-owner --owner=0 --group=0 --mtime="@$SOURCE_DATE_EPOCH" \
  -C "$work/rootfs" -cf "$work/layer.tar" pause
cat >"$work/config.json" <<JSON
{"Entrypoint": ["/pause"], "User": "65535:65535", "Labels": {"org.opencontainers.image.source": "cdk8s-dask hack/images/pause"}}
JSON
refs=()
for r in "$@"; do refs+=(--ref "$r"); done
step "OCI layout" python3 "$here/../oci.py" image --layout "$layout" --layer "$work/layer.tar" \
  --config "$work/config.json" "${refs[@]}" >/dev/null
