#!/usr/bin/env bash
# Runs a command in a fresh network namespace with only loopback up, so traffic cannot leave the machine.
# As root this is `unshare -n`; otherwise a user namespace is added (`unshare -rn`).
set -euo pipefail
if [ "${CDK8S_DASK_IN_NETNS:-}" = 1 ]; then exec "$@"; fi
flags=(-n)
[ "$(id -u)" = 0 ] || flags=(-r -n)
export CDK8S_DASK_IN_NETNS=1
exec unshare "${flags[@]}" -- bash -c 'ip link set lo up && exec "$@"' netns "$@"
