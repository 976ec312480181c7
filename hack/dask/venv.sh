#!/usr/bin/env bash
# Creates or updates the project's Python venv (.venv) with the pinned dask + distributed from
# hack/dask/requirements.txt, plus the test-only hack/dask/requirements-tests.txt (which the Dask images of
# hack/images do not get). Idempotent: a stamp file keyed on the requirements' hash and the
# interpreter version makes a second run a no-op (well under a second).
#
#   bash hack/dask/venv.sh            create/update .venv
#   PYTHON=python3.12 bash hack/dask/venv.sh    choose the interpreter (default: python3, must be >= 3.10)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv"
req="$root/hack/dask/requirements.txt"
req_tests="$root/hack/dask/requirements-tests.txt"
stamp="$venv/.cdk8s-dask-requirements.sha256"
py="${PYTHON:-python3}"

command -v "$py" >/dev/null || { echo "hack/dask/venv.sh: '$py' not found; install Python >= 3.10 or set PYTHON=" >&2; exit 1; }
pyver="$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || { echo "hack/dask/venv.sh: $py is $pyver; dask needs Python >= 3.10" >&2; exit 1; }

want="$( { cat "$req" "$req_tests"; echo "python=$pyver"; } | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "    .venv up to date ($("$venv/bin/python" -c 'import dask, distributed; print("dask", dask.__version__, "distributed", distributed.__version__)'))"
  exit 0
fi

if [ ! -x "$venv/bin/python" ] || [ "$("$venv/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)" != "$pyver" ]; then
  echo "    creating .venv with $py ($pyver)"
  rm -rf "$venv"
  "$py" -m venv "$venv"
fi
echo "    installing $(cat "$req" "$req_tests" | grep -v '^#' | xargs) into .venv"
"$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -r "$req" -r "$req_tests"
"$venv/bin/python" -c 'import dask, distributed; print("    installed dask", dask.__version__, "distributed", distributed.__version__)'
echo "$want" > "$stamp"
