#!/usr/bin/env bash
# The README's test command (`npm test`) lands here. It prepares everything the suites need, with
# visible progress, then runs every Jest project inside a private network namespace so that no test
# can reach anything but loopback (kwok hands out fake 10.x pod/service IPs that must never be dialled).
#
#   npm test                 all projects: unit, dask (real scheduler/workers), integration (real control plane)
#   npm test -- --selectProjects unit     any extra arguments go to Jest
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/node.sh   # ensures node_modules and puts the pinned Node 24 first on PATH

step() { printf '\n==> %s\n' "$*"; }

step "type-check (tsc --noEmit)"
tsc --noEmit -p tsconfig.test.json

step "control plane binaries (built once, cached under ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask})"
bash hack/cluster/build.sh

step "Python venv with dask/distributed (.venv)"
bash hack/dask/venv.sh

step "jest, inside a private network namespace (loopback only)"
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules"
exec bash hack/netns.sh jest "$@"
