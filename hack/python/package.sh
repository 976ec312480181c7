#!/usr/bin/env bash
# The constructs for Python: compiles lib/ with jsii (lib/.jsii, lib/build/), checks that lib/API.md matches the
# assembly, generates the Python package with jsii-pacmak (lib/dist/python/cdk8s_dask-<version>-py3-none-any.whl),
# and installs that wheel with the pinned cdk8s/constructs from PyPI (hack/python/requirements.txt) into
# .venv-python, a second venv beside the dask one. Needs the network (pacmak and pip fetch from PyPI), so
# hack/test.sh runs it before entering the test network namespace. A stamp of the inputs makes a rerun with
# unchanged lib/ a no-op.
#
#   bash hack/python/package.sh           build if lib/ changed, then make sure .venv-python has the wheel
#   PYTHON=python3.12 bash hack/python/package.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source hack/lib/node.sh
venv="$root/.venv-python"
req="$root/hack/python/requirements.txt"
py="${PYTHON:-python3}"
version="$(node -p 'require("./lib/package.json").version')"
wheel="lib/dist/python/cdk8s_dask-${version}-py3-none-any.whl"

command -v "$py" >/dev/null || { echo "hack/python/package.sh: '$py' not found; install Python >= 3.10 or set PYTHON=" >&2; exit 1; }
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || { echo "hack/python/package.sh: $py is older than 3.10" >&2; exit 1; }

# Everything the wheel is made from: lib's sources and manifest, and the locked toolchain (jsii, pacmak).
inputs="$( { find lib \( -path lib/build -o -path lib/dist -o -path lib/node_modules \) -prune -o -type f \
  \( -name '*.ts' -o -name '*.json' -o -name 'README.md' \) ! -name tsconfig.json -print | LC_ALL=C sort | xargs sha256sum; \
  sha256sum package-lock.json; "$py" --version; } | sha256sum | cut -d' ' -f1)"
stamp="lib/dist/.inputs.sha256"
if [ -f "$wheel" ] && [ -f lib/.jsii ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then
  echo "    $wheel up to date"
else
  started=$SECONDS
  echo "    jsii (lib/.jsii, lib/build/)"
  (cd lib && npm run --silent build)
  node scripts/gen-api-md.js --check
  echo "    jsii-pacmak --targets python"
  rm -rf lib/dist
  (cd lib && jsii-pacmak --targets python >/dev/null)
  [ -f "$wheel" ] || { echo "hack/python/package.sh: jsii-pacmak did not write $wheel" >&2; exit 1; }
  echo "$inputs" > "$stamp"
  echo "    built $wheel in $((SECONDS - started)) s"
fi

want="$( { cat "$req"; "$py" --version; } | sha256sum | cut -d' ' -f1)"
venv_stamp="$venv/.requirements.sha256"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv_stamp" ] || [ "$(cat "$venv_stamp")" != "$want" ]; then
  echo "    creating .venv-python with $("$py" --version) and $(grep -cv '^#' "$req") pinned packages"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q -r "$req"
  echo "$want" > "$venv_stamp"
fi
# Reinstall when the wheel changed (pip keys on the version, which stays put between builds).
if [ "$(cat "$venv/.wheel.sha256" 2>/dev/null)" != "$(sha256sum "$wheel" | cut -d' ' -f1)" ]; then
  "$venv/bin/python" -m pip install --disable-pip-version-check -q --no-deps --force-reinstall "$wheel"
  "$venv/bin/python" -m pip check >/dev/null
  sha256sum "$wheel" | cut -d' ' -f1 > "$venv/.wheel.sha256"
fi
echo "    .venv-python: $("$venv/bin/python" -c 'import importlib.metadata as m; print(", ".join(f"{p} {m.version(p)}" for p in ("cdk8s-dask", "cdk8s", "constructs", "jsii")))')"
