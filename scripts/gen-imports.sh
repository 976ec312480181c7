#!/usr/bin/env bash
# Regenerates imports/ (typed cdk8s L1 classes for the four kinds) from crds/, offline, with `cdk8s import`.
#   bash scripts/gen-imports.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."
out=imports
if [ "${1:-}" = "--check" ]; then out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi
for f in crds/kubernetes.dask.org_*.yaml; do
  plural=${f#crds/kubernetes.dask.org_}; plural=${plural%.yaml}
  # one module per kind (the group-wide module would be over 2 MB)
  cdk8s import "${plural}:=$f" -l typescript -o "$out" --no-save --no-check-upgrade >/dev/null 2>&1
done
if [ "${1:-}" = "--check" ]; then
  diff -r -q "$out" imports >/dev/null || { echo "imports/ is out of date with crds/: run npm run gen" >&2; diff -r -q "$out" imports >&2 || true; exit 1; }
else
  ls -la imports | tail -n +2
fi
