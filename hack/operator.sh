#!/usr/bin/env bash
# `npm run operator -- [flags]`: compiles if needed and runs the operator on the pinned Node 24 against $KUBECONFIG.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/node.sh
if [ ! -f build/operator/main.js ] || [ -n "$(find lib operator -name '*.ts' -newer build/operator/main.js -print -quit)" ]; then
  tsc -p tsconfig.json
fi
exec node build/operator/main.js "$@"
