#!/usr/bin/env bash
# `npm run chaos`: the operator under chaos at length (bench/chaos.ts), outside `npm test`. Builds what it needs and runs
# inside the private network namespace; the result goes to bench/results/chaos-<date>.md. Parameters are environment
# variables (CHAOS_MINUTES, CHAOS_VARIANT=kill|proxy|both, ...; see bench/chaos.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/node.sh
bash hack/cluster/build.sh >/dev/null
exec bash hack/netns.sh node bench/run.js chaos
