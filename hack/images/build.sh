#!/usr/bin/env bash
# Builds the container images a local (registry-less) cluster needs, as OCI archives for
# `ctr -n k8s.io images import`, and caches them outside the repository. See docs/images.md.
#
#   bash hack/images/build.sh [--rebuild] [--verbose] [IMAGE ...]
#
# IMAGE: pause | dask | operator | node (the operator's base, node:24-slim); default: pause dask operator.
# stdout: one line per image reference, "<ref>\t<absolute path of the OCI archive>". Progress goes to stderr.
# Each archive is keyed by the hash of its inputs (these scripts, pinned versions, and for the operator the
# repository files its Dockerfile copies): a run with unchanged inputs only prints the lines. --rebuild ignores the
# cache for the images named; --verbose streams the tools' output (else it goes to the cache's logs/IMAGE.log).
# Cache: ${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}/images.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$here/common.sh"

# Bump when this driver changes what it produces (this file is not hashed itself, so that editing its text alone
# does not rebuild everything).
FORMAT=1

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
rebuild=0
verbose=0
want=()
for a in "$@"; do
  case "$a" in
    --rebuild) rebuild=1 ;;
    -v | --verbose) verbose=1 ;;
    -h | --help) usage; exit 0 ;;
    pause | dask | operator | node) want+=("$a") ;;
    *) echo "hack/images/build.sh: unknown argument '$a'" >&2; usage >&2; exit 2 ;;
  esac
done
[ "${#want[@]}" -gt 0 ] || want=(pause dask operator)

# Host tools (Debian package names); a missing one is installed with apt-get when we are root.
need_tools() {
  local missing=() t pkg
  for t in "$@"; do
    pkg="${t#*:}"
    t="${t%%:*}"
    command -v "$t" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [[ " $* " == *" gcc:"* ]] && [ ! -f "$(gcc -print-file-name=libc.a 2>/dev/null)" ]; then missing+=(libc6-dev); fi
  [ "${#missing[@]}" -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    img_log "installing host packages: ${missing[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2
  else
    echo "hack/images/build.sh: missing host tools; install the Debian packages: ${missing[*]}" >&2
    return 1
  fi
}
tools=(python3:python3 gzip:gzip tar:tar flock:util-linux unshare:util-linux)
for img in "${want[@]}"; do
  case "$img" in
    pause) tools+=(gcc:gcc strip:binutils) ;;
    dask) tools+=(mmdebstrap:mmdebstrap) ;;
    node) tools+=(mmdebstrap:mmdebstrap npm:npm) ;;
    operator) tools+=(mmdebstrap:mmdebstrap npm:npm buildah:buildah) ;;
  esac
done
need_tools "${tools[@]}"

cache_root="${CDK8S_DASK_CACHE:-$HOME/.cache/cdk8s-dask}"
mkdir -p "$cache_root/images/tmp"
cache="$(cd "$cache_root/images" && pwd -P)"

# One build at a time per cache (a second run waits); scratch space of runs that were killed is removed here.
exec 9>"$cache/.lock"
if ! flock -n 9; then
  img_log "another build holds $cache/.lock; waiting"
  flock 9
fi
rm -rf --one-file-system "$cache/tmp"
mkdir -p "$cache/tmp"
scratch="$(mktemp -d "$cache/tmp/run.XXXXXX")"
cleanup() { rm -rf "$scratch"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- inputs and keys -------------------------------------------------------------------------------------------
# Lines "label sha256" for files (recursively for directories), paths relative to the repo.
hash_paths() {
  local p
  for p in "$@"; do
    if [ -d "$p" ]; then
      find "$p" -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    else
      sha256sum "$p"
    fi
  done | sed "s|  $repo/|  |"
}

refs_of() {
  case "$1" in
    pause) (. "$here/pause/version.env" && echo "registry.k8s.io/pause:$PAUSE_VERSION") ;;
    dask)
      local v
      v="$(sed -n 's/^dask==\([^ ;#]*\).*/\1/p' "$repo/hack/dask/requirements.txt")"
      [ -n "$v" ] || { echo "no dask==VERSION pin in hack/dask/requirements.txt" >&2; return 1; }
      echo "ghcr.io/dask/dask:$v ghcr.io/dask/dask:latest"
      ;;
    node) echo "docker.io/library/node:24-slim" ;;
    operator)
      local v
      v="$(node_field "$repo/package.json" version)"
      echo "ghcr.io/cdk8s-dask/dask-operator:$v"
      ;;
  esac
}

# node_field FILE FIELD: a top-level string field of a JSON file (python3: no npm install needed).
node_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# The Node.js version the repository pins (the `node` devDependency, resolved in package-lock.json).
node_version() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packages"]["node_modules/node"]["version"])' \
    "$repo/package-lock.json"
}

inputs_of() {
  echo "format $FORMAT"
  echo "refs $(refs_of "$1")"
  hash_paths "$here/common.sh" "$here/oci.py" "$here/$1"
  case "$1" in
    pause) echo "gcc $(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)" ;;
    dask) hash_paths "$repo/hack/dask/requirements.txt" ;;
    node) echo "node $(node_version)" ;;
    operator)
      echo "base $(key_of node)"
      echo "buildah $(buildah --version)"
      hash_paths "$repo/Dockerfile"
      local s
      local -a sources=()
      while read -r s; do
        [ -e "$repo/$s" ] || { echo "Dockerfile copies '$s', which does not exist" >&2; return 1; }
        sources+=("$s")
      done < <(dockerfile_sources "$repo/Dockerfile")
      context_files "$repo" "${sources[@]}" | (cd "$repo" && xargs -0 -r sha256sum)
      ;;
  esac
}

declare -A KEYS=()
key_of() {
  if [ -z "${KEYS[$1]:-}" ]; then
    KEYS[$1]="$(inputs_of "$1" | sha256sum | cut -c1-20)" || return 1
  fi
  echo "${KEYS[$1]}"
}

archive_of() { echo "$cache/$1-$(key_of "$1").oci.tar"; }

# ---- building ------------------------------------------------------------------------------------------------
declare -A BUILT=()
ensure() {
  local img="$1" key archive
  [ -z "${BUILT[$img]:-}" ] || return 0
  key="$(key_of "$img")"
  archive="$(archive_of "$img")"
  if [ -f "$archive" ] && ! { [ "$rebuild" = 1 ] && [[ " ${want[*]} " == *" $img "* ]]; }; then
    img_log "$img: cached ($(basename "$archive"))"
    BUILT[$img]=1
    return 0
  fi
  [ "$img" != operator ] || ensure node
  local work="$scratch/$img" s
  mkdir -p "$work/layout" "$work/tmp"
  img_log "$img: building (key $key)"
  s="$(_img_ms)"
  # The tools' output goes to a log file (or with --verbose to stderr); stdout carries only the result lines.
  local log="$cache/logs/$img.log" rc=0
  mkdir -p "$cache/logs"
  if [ "$verbose" = 1 ]; then
    exec 4>&2
  else
    exec 4>"$log"
    img_log "$img: tool output in $log"
  fi
  # shellcheck disable=SC2046
  IMG_NAME="$img" REPO="$repo" CACHE="$cache" NODE_ARCHIVE="$( [ "$img" != operator ] || archive_of node)" \
    NODE_VERSION="$( [ "$img" != node ] || node_version)" IMG_PROGRESS_FD=3 \
    bash "$here/$img/build.sh" "$work/layout" "$work/tmp" $(refs_of "$img") 3>&2 >&4 2>&4 4>&- 9>&- || rc=$?
  exec 4>&-
  if [ "$rc" -ne 0 ]; then
    [ "$verbose" = 1 ] || { echo "---- last lines of $log ----"; tail -n 40 "$log"; echo "----"; } >&2
    img_log "$img: build FAILED (exit $rc)"
    return "$rc"
  fi
  IMG_NAME="$img" step "OCI archive" python3 "$here/oci.py" archive --layout "$work/layout" --out "$work/image.tar"
  # Into place only when complete: an interrupted build leaves nothing a later run could take for a cache hit.
  mv -f "$work/image.tar" "$archive"
  rm -rf "$work"
  # Older archives of this image go, but the newest few stay: another checkout on the same machine (another branch,
  # a CI clone) may have listed one of them and be about to import it.
  local old
  while read -r old; do
    [ "$old" = "$archive" ] || rm -f "$old"
  done < <(ls -t "$cache/$img"-*.oci.tar 2>/dev/null | tail -n +4)
  img_log "$img: built in $(_img_fmt $(($(_img_ms) - s)))s, $(du -m "$archive" | cut -f1) MB: $archive"
  BUILT[$img]=1
}

for img in "${want[@]}"; do ensure "$img"; done
for img in "${want[@]}"; do
  for ref in $(refs_of "$img"); do printf '%s\t%s\n' "$ref" "$(archive_of "$img")"; done
done
