#!/usr/bin/env bash
# The README's test command (`npm test`) lands here. It prepares everything the suites need, with
# visible progress, then runs every Jest project inside a private network namespace so that no test
# can reach anything but loopback (kwok hands out fake 10.x pod/service IPs that must never be dialled).
#
#   npm test                                  all projects: unit, dask (real scheduler/workers), integration (real control
#                                             plane), then node (one real node) in a second Jest run
#   npm test -- --selectProjects unit         extra arguments go to Jest (--selectProjects picks the runs too)
#
# First use installs node_modules (with Node 24), builds the control plane, Kueue and the node tier's kubelet,
# kube-proxy and CoreDNS (Go, cached under ~/.cache/cdk8s-dask), the node's images (hack/images, cached there too),
# argocd-health and helm and fetches the third-party CRDs (Go module proxy, cached there too), creates .venv with
# dask/distributed, builds the Python package of the constructs and fills the npm cache for the consumer test; later
# runs reuse all of it. The node project runs alone, after the others, so that two clusters never share the two
# cores; where the machine cannot run containers it is skipped with one line saying why.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/node.sh   # ensures node_modules and puts the pinned Node 24 first on PATH

step() { printf '\n==> %s\n' "$*"; }

step "compile (tsc: build/ for the operator process the integration tests start) and type-check the tests"
tsc -p tsconfig.json
tsc --noEmit -p tsconfig.test.json

step "generated files are up to date (imports/ from crds/; crds/ and types are checked by the unit tests)"
bash scripts/gen-imports.sh --check
node hack/argocd/embed.js --check

step "control plane binaries (built once, cached under ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask})"
bash hack/cluster/build.sh >/dev/null

step "GitOps tools (built or fetched once, cached under ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}): argocd-health, helm, third-party CRDs"
bash hack/argocd/build.sh >/dev/null
bash hack/helm/build.sh >/dev/null
bash hack/crds/fetch.sh >/dev/null
step "Kueue controller for the Kueue integration tests (built once from the Go module proxy, cached under ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/kueue; the first build takes minutes, see docs/kueue.md)"
bash hack/kueue/build.sh >/dev/null

step "Python venv with dask/distributed (.venv)"
bash hack/dask/venv.sh

step "the constructs for Python: jsii, API.md, jsii-pacmak wheel, .venv-python (hack/python/package.sh)"
bash hack/python/package.sh

step "npm cache holds what the consumer test installs offline (hack/consumer/warm-cache.js)"
node hack/consumer/warm-cache.js

# --selectProjects decides which of the two Jest runs happen; every other argument goes to both.
select=() rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --selectProjects=*) select+=("${1#--selectProjects=}"); shift ;;
    --selectProjects)
      shift
      while [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; do select+=("$1"); shift; done ;;
    *) rest+=("$1"); shift ;;
  esac
done
first=() run_first=1 run_node=1
if [ ${#select[@]} -gt 0 ]; then
  run_node=0
  for p in "${select[@]}"; do if [ "$p" = node ]; then run_node=1; else first+=("$p"); fi; done
  [ ${#first[@]} -gt 0 ] || run_first=0
fi
# A test path pattern may match nothing in one of the two runs.
[ ${#rest[@]} -eq 0 ] || rest+=(--passWithNoTests)

results=()
trap 'rm -f "${results[@]}" ${CDK8S_DASK_NODE_IMAGE_LIST:+"$CDK8S_DASK_NODE_IMAGE_LIST"}' EXIT
if [ "$run_node" = 1 ]; then
  if support="$(node hack/cluster/cli.js node-support)"; then
    step "node tier: kubelet, kube-proxy, CoreDNS (built once, cached) and the node's images (hack/images, cached)"
    bash hack/cluster/build.sh --node >/dev/null
    # Built here, with the network; the Jest run (loopback only) imports exactly these archives.
    CDK8S_DASK_NODE_IMAGE_LIST="$(mktemp -t cdk8s-dask-images-XXXXXX.tsv)"
    export CDK8S_DASK_NODE_IMAGE_LIST
    bash hack/images/build.sh >"$CDK8S_DASK_NODE_IMAGE_LIST"
  else
    step "node tier: not on this machine ($support); its tests will be skipped"
  fi
fi

export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules"
rc=0
jest_run() { # label, jest args...
  local label="$1" out rc1=0; shift
  out="$(mktemp -t cdk8s-dask-jest-XXXXXX.json)"
  results+=("$out")
  step "jest ($label), inside a private network namespace (loopback only)"
  bash hack/netns.sh jest --json --outputFile="$out" "$@" || rc1=$?
  [ "$rc1" = 0 ] || rc=$rc1
}
set +e
if [ "$run_first" = 1 ]; then
  if [ ${#first[@]} -gt 0 ]; then jest_run "${first[*]}" --selectProjects "${first[@]}" "${rest[@]}"
  else jest_run "unit, dask, integration" --ignoreProjects node "${rest[@]}"; fi
fi
[ "$run_node" = 1 ] && jest_run "node" --selectProjects node "${rest[@]}"
set -e
# One plain summary line over both runs (jest's own summary is per project and harder to read in CI logs).
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0, total = 0;
  for (const f of process.argv.slice(1)) {
    let r;
    try { r = JSON.parse(fs.readFileSync(f, "utf8")); } catch { failed += 1; console.log(`jest: a run wrote no results (${f})`); continue; }
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests || 0);
    total += r.numTotalTests;
  }
  console.log(`\njest: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (total === 0) console.log("jest: no test ran");
' "${results[@]}"
exit $rc
