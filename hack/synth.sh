#!/usr/bin/env bash
# The README's main command (`npm run synth`): installs dependencies on first use, compiles, and writes dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/node.sh
echo "==> tsc"
tsc -p tsconfig.json
echo "==> synth (node $(node --version))"
rm -rf dist
node build/main.js
