# Sourced by hack/*.sh: makes sure dependencies are installed and the pinned Node 24
# (the `node` devDependency) is the `node` on PATH, whatever the system Node is.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ ! -x "$_root/node_modules/.bin/node" ] || [ "$_root/package-lock.json" -nt "$_root/node_modules/.package-lock.json" ]; then
  printf '==> npm ci (first use: installs dependencies, including Node 24)\n'
  (cd "$_root" && npm ci --no-audit --no-fund)
fi
export PATH="$_root/node_modules/.bin:$PATH"
unset _root
