#!/usr/bin/env bash
# `npm run bench [-- <name>]`: builds what the benchmarks need and runs bench/<name>.ts (default scale-up) inside the
# private network namespace. Results are printed and written to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/node.sh
tsc -p tsconfig.json
bash hack/cluster/build.sh >/dev/null
# The Python venv (dask, distributed, and the upstream operator for vs-upstream): a no-op when up to date.
bash hack/dask/venv.sh >&2
exec bash hack/netns.sh node bench/run.js "${1:-scale-up}"
