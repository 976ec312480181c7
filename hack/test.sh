#!/usr/bin/env bash
# The README's test command (`npm test`) lands here. It prepares everything the suites need, with
# visible progress, then runs every Jest project inside a private network namespace so that no test
# can reach anything but loopback (kwok hands out fake 10.x pod/service IPs that must never be dialled).
#
#   npm test                                  all projects: unit, dask (real scheduler/workers), integration (real control plane)
#   npm test -- --selectProjects unit         extra arguments go to Jest
#
# First use installs node_modules (with Node 24), builds the control plane and Kueue (Go, cached under
# ~/.cache/cdk8s-dask), creates .venv with dask/distributed and fills the npm cache for the consumer test; later
# runs reuse all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/node.sh   # ensures node_modules and puts the pinned Node 24 first on PATH

step() { printf '\n==> %s\n' "$*"; }

step "compile (tsc: build/ for the operator process the integration tests start) and type-check the tests"
tsc -p tsconfig.json
tsc --noEmit -p tsconfig.test.json

step "generated files are up to date (imports/ from crds/; crds/ and types are checked by the unit tests)"
bash scripts/gen-imports.sh --check

step "control plane binaries (built once, cached under ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask})"
bash hack/cluster/build.sh >/dev/null

step "Kueue controller for the Kueue integration tests (built once from the Go module proxy, cached under ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/kueue; the first build takes minutes, see docs/kueue.md)"
bash hack/kueue/build.sh >/dev/null

step "Python venv with dask/distributed (.venv)"
bash hack/dask/venv.sh

step "the constructs for Python: jsii, API.md, jsii-pacmak wheel, .venv-python (hack/python/package.sh)"
bash hack/python/package.sh

step "npm cache holds what the consumer test installs offline (hack/consumer/warm-cache.js)"
node hack/consumer/warm-cache.js

step "jest, inside a private network namespace (loopback only)"
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules"
results="$(mktemp -t cdk8s-dask-jest-XXXXXX.json)"
trap 'rm -f "$results"' EXIT
set +e
bash hack/netns.sh jest --json --outputFile="$results" "$@"
rc=$?
set -e
# One plain summary line (jest's own summary is per project and harder to read in CI logs).
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`\njest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests || 0)} skipped`);
  if (r.numTotalTests === 0) console.log("jest: no test ran");
' "$results" 2>/dev/null || echo "jest: 0 passed, 1 failed (jest did not write its results)"
exit $rc
