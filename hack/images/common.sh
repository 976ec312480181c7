# Sourced by hack/images/build.sh and the per-image scripts: progress on stderr, each step timed.
# Part of every image's cache key: a change here rebuilds every image.
_img_ms() { local t="${EPOCHREALTIME/./}"; echo $((t / 1000)); }
_img_fmt() { printf '%d.%01d' $(($1 / 1000)) $((($1 % 1000) / 100)); }
_img_t0="${_img_t0:-$(_img_ms)}"
export _img_t0
# Progress goes to fd $IMG_PROGRESS_FD when build.sh set one (the tools' own output then goes to a log file).
img_log() {
  local line
  line="$(printf '[images %7ss] %s' "$(_img_fmt $(($(_img_ms) - _img_t0)))" "$*")"
  if [ -n "${IMG_PROGRESS_FD:-}" ]; then echo "$line" >&"$IMG_PROGRESS_FD"; else echo "$line" >&2; fi
}
# step "what" cmd args...: runs cmd, logs its start and its end with the step's duration; returns cmd's status.
step() {
  local what="$1" s rc=0
  shift
  img_log "${IMG_NAME:-images}: $what ..."
  s="$(_img_ms)"
  # The command gets no progress fd: tools that pass fds to dash (mmdebstrap) need the low numbers free.
  if [ "${IMG_PROGRESS_FD:-}" = 3 ]; then "$@" 3>&- || rc=$?; else "$@" || rc=$?; fi
  if [ "$rc" -ne 0 ]; then
    img_log "${IMG_NAME:-images}: $what FAILED (exit $rc) after $(_img_fmt $(($(_img_ms) - s)))s"
    return "$rc"
  fi
  img_log "${IMG_NAME:-images}: $what done in $(_img_fmt $(($(_img_ms) - s)))s"
}
# A fixed timestamp for image metadata and layer entries (reproducible builds).
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1767225600}"
# dockerfile_sources DOCKERFILE: the build-context paths its COPY/ADD instructions take (not COPY --from=...).
dockerfile_sources() {
  awk 'toupper($1) == "COPY" || toupper($1) == "ADD" {
         from = 0; n = 0
         for (i = 2; i <= NF; i++) { if ($i ~ /^--from=/) from = 1; else if ($i !~ /^--/) a[++n] = $i }
         if (!from) for (i = 1; i < n; i++) print a[i]
       }' "$1"
}
# context_files REPO PATH...: the files under PATHs (relative to REPO) that go into the operator's build context: the
# files git tracks when REPO is a git checkout (so build output, venvs and jsii artefacts next to the sources never
# change the image or its cache key), every file otherwise. NUL-separated, sorted.
context_files() {
  local repo="$1"; shift
  if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$repo" ls-files -z --cached -- "$@" | while IFS= read -r -d '' f; do [ -e "$repo/$f" ] && printf '%s\0' "$f"; done | LC_ALL=C sort -z
  else
    (cd "$repo" && find "$@" -type f -print0 | LC_ALL=C sort -z)
  fi
}
