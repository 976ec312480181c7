#!/usr/bin/env bash
# Builds the Dask image's OCI layout, shaped like the upstream ghcr.io/dask/dask image: Debian bookworm (minbase)
# with python3, tini and CA certificates, a venv at /opt/conda (its bin first on PATH) holding the pinned dask,
# distributed, numpy and pandas; entrypoint `tini -g --`. Called by hack/images/build.sh as
#   dask/build.sh LAYOUT_DIR SCRATCH_DIR REF...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
layout="$1" work="$2"
shift 2

{ cat "$REPO/hack/dask/requirements.txt"; echo; cat "$here/requirements.txt"; } >"$work/requirements.txt"
if [ -f "$here/constraints.txt" ]; then cp "$here/constraints.txt" "$work/constraints.txt"; else : >"$work/constraints.txt"; fi
host_ca=/etc/ssl/certs/ca-certificates.crt
[ -r "$host_ca" ] || { echo "dask/build.sh: no CA bundle at $host_ca" >&2; exit 1; }

# mmdebstrap runs in a private mount namespace: the /proc, /sys and /dev mounts it makes in the chroot can never
# outlive it on the host, even if the build is killed. pip runs in the chroot under `env -i` (inherited SSL_CERT_FILE
# / PIP_* variables of the host would otherwise point at host paths), with the host's CA bundle copied in.
# The merged-usr hook sets /usr up itself, so usrmerge (and the perl it pulls in) is not installed.
step "mmdebstrap bookworm + python3 + pip install (venv /opt/conda)" \
  env TMPDIR="$work" unshare --mount --propagation private -- \
  mmdebstrap --mode=root --variant=minbase --include=python3,python3-venv,tini,ca-certificates \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="cp '$host_ca' \"\$1/tmp/host-ca.pem\"" \
  --customize-hook="cp '$work/requirements.txt' '$work/constraints.txt' '$here/install.sh' \"\$1/tmp/\"" \
  --customize-hook='chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 /bin/sh /tmp/install.sh' \
  --customize-hook='rm -f "$1/tmp/host-ca.pem" "$1/tmp/requirements.txt" "$1/tmp/constraints.txt" "$1/tmp/install.sh"' \
  --customize-hook='rm -rf "$1"/root/.cache "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  --customize-hook=': >"$1/etc/resolv.conf"; echo localhost >"$1/etc/hostname"' \
  --customize-hook="cp \"\$1/opt/conda/pip-freeze.txt\" '$work/pip-freeze.txt'" \
  bookworm "$work/rootfs.tar"

# Device nodes: the runtime provides /dev; an image layer should not carry them.
tar --delete --wildcards -f "$work/rootfs.tar" './dev/?*'
cp "$work/pip-freeze.txt" "$CACHE/dask-pip-freeze.txt"
if [ ! -s "$work/constraints.txt" ]; then
  img_log "dask: no hack/images/dask/constraints.txt; the resolved set is in $CACHE/dask-pip-freeze.txt (copy it there to pin)"
elif ! diff -q <(grep -v '^#' "$work/constraints.txt" | sort) <(sort "$work/pip-freeze.txt") >/dev/null; then
  img_log "dask: installed set differs from constraints.txt (see $CACHE/dask-pip-freeze.txt)"
fi

cat >"$work/config.json" <<JSON
{
  "Entrypoint": ["tini", "-g", "--"],
  "Cmd": ["python"],
  "Env": ["PATH=/opt/conda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
  "Labels": {"org.opencontainers.image.source": "cdk8s-dask hack/images/dask"}
}
JSON
refs=()
for r in "$@"; do refs+=(--ref "$r"); done
step "OCI layout ($(du -m "$work/rootfs.tar" | cut -f1) MB rootfs, gzip)" \
  python3 "$here/../oci.py" image --layout "$layout" --layer "$work/rootfs.tar" --config "$work/config.json" \
  "${refs[@]}" >/dev/null
