#!/usr/bin/env bash
# Checks the images hack/images/build.sh makes: imports each OCI archive into a throwaway containerd
# (`ctr -n k8s.io images import`), checks the names it gets, and runs each image once with `ctr run --rm`.
#
#   bash hack/images/verify.sh [IMAGE ...]     (IMAGE as for build.sh; default: pause dask operator)
#
# The containerd runs inside a private mount and network namespace (loopback only) with its own root, state and
# socket under a temporary directory, a tmpfs over /run (containerd 1.6 and ctr use fixed /run/containerd paths),
# and its containers in the cgroup "cdk8s-images-verify"; everything is removed on exit. Needs root.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/common.sh"
IMG_NAME=verify
CG=cdk8s-images-verify

if [ "${1:-}" != --inner ]; then
  lines="$(bash "$here/build.sh" "$@")"
  for t in containerd:containerd ctr:containerd runc:runc ip:iproute2; do
    command -v "${t%%:*}" >/dev/null || { echo "hack/images/verify.sh: needs ${t%%:*} (Debian package ${t#*:})" >&2; exit 1; }
  done
  d="$(mktemp -d /tmp/cdk8s-images-verify.XXXXXX)"
  printf '%s\n' "$lines" >"$d/images.tsv"
  rc=0
  unshare --mount --net --propagation private bash "${BASH_SOURCE[0]}" --inner "$d" || rc=$?
  # Cgroups are not namespaced here (v1): remove what our containers left, if anything.
  for h in /sys/fs/cgroup/*/; do
    [ -d "$h$CG" ] || continue
    find "$h$CG" -depth -type d -exec rmdir {} + 2>/dev/null || img_log "could not remove $h$CG"
  done
  rm -rf --one-file-system "$d"
  if [ "$rc" -eq 0 ]; then img_log "all checks passed"; else img_log "FAILED (exit $rc)"; fi
  exit "$rc"
fi

# ---- inside the private namespaces ----------------------------------------------------------------------------
d="$2"
ip link set lo up
mount -t tmpfs -o mode=0755 tmpfs /run
sock="$d/containerd.sock"
cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOF
containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
cpid=$!
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"; }
stop_all() {
  local p
  # Shims outlive containerd; ours are the ones started with our socket address.
  for p in $(pgrep -f -- "-address $sock" || true); do
    ours "$p" "-address $sock" && kill -KILL "$p" 2>/dev/null || true
  done
  if ours "$cpid" "containerd --config $d/config.toml"; then
    kill -TERM "$cpid" 2>/dev/null || true
    wait "$cpid" 2>/dev/null || true
    img_log "throwaway containerd stopped"
  fi
}
trap stop_all EXIT
c() { ctr --address "$sock" -n k8s.io "$@"; }
for _ in $(seq 100); do c version >/dev/null 2>&1 && break; sleep 0.1; done
c version >/dev/null || { cat "$d/containerd.log" >&2; exit 1; }
img_log "throwaway containerd $(containerd --version | awk '{print $3}') up (pid $cpid)"

fail=0
check() { # check "what" cmd...
  if step "$1" "${@:2}"; then :; else fail=1; fi
}

# Import each archive once, then check every name the build printed is there.
declare -A done_archive=()
while IFS=$'\t' read -r ref archive; do
  [ -n "$ref" ] || continue
  if [ -z "${done_archive[$archive]:-}" ]; then
    done_archive[$archive]=1
    check "import $(basename "$archive") ($(du -m "$archive" | cut -f1) MB)" c images import "$archive"
  fi
done <"$d/images.tsv"
c images ls -q >"$d/names"
while IFS=$'\t' read -r ref _; do
  [ -n "$ref" ] || continue
  if grep -qxF "$ref" "$d/names"; then img_log "name present: $ref"; else img_log "MISSING name: $ref"; fail=1; fi
done <"$d/images.tsv"

run() { # run ID REF [ARG...]: ctr run --rm in the host (= our private) network namespace
  local id="$1" ref="$2"
  shift 2
  c run --rm --net-host --cgroup "/$CG/$id" "$ref" "$id" "$@" </dev/null # (ctr run would eat the loop's input)
}

pause_check() {
  local ref="$1" id=verify-pause rc=0
  run "$id" "$ref" &
  local rp=$!
  for _ in $(seq 100); do c task ls 2>/dev/null | grep -q "^$id .*RUNNING" && break; sleep 0.1; done
  c task ls | grep -q "^$id .*RUNNING" || { img_log "pause did not start"; kill "$rp"; return 1; }
  sleep 0.5
  c task ls | grep -q "^$id .*RUNNING" || { img_log "pause exited early"; return 1; }
  c task kill -s SIGTERM "$id"
  wait "$rp" || rc=$?
  [ "$rc" -eq 0 ] || { img_log "pause exited $rc on SIGTERM"; return 1; }
}

# Starts `dask scheduler` and one `dask worker`, waits for the scheduler's /health on 8787 (what the probes hit),
# then computes with dask.array and pandas (on the worker) through a Client. (dask.dataframe needs pyarrow, which the
# image leaves out: see docs/images.md.)
read -r -d '' DASK_SMOKE <<'PY' || true
import shutil, signal, subprocess, sys, time, urllib.request
assert shutil.which("dask"), "dask not on PATH"
assert shutil.which("dask-scheduler") is None, "dask-scheduler is on PATH (distributed >= 2026.6 removed it)"
sched = subprocess.Popen(["dask", "scheduler", "--host", "127.0.0.1"])
worker = None
try:
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen("http://127.0.0.1:8787/health", timeout=2) as r:
                print("GET /health on 8787:", r.status, r.read().decode(), flush=True)
                break
        except OSError:
            if time.time() > deadline or sched.poll() is not None:
                raise SystemExit("scheduler /health on 8787 never answered")
            time.sleep(0.5)
    worker = subprocess.Popen(["dask", "worker", "tcp://127.0.0.1:8786", "--nthreads", "1", "--name", "w0"])
    import dask.array as da
    from distributed import Client

    def pandas_sum(n):
        import pandas as pd
        return int(pd.DataFrame({"x": range(n)}).x.sum())

    with Client("tcp://127.0.0.1:8786", timeout=60) as client:
        client.wait_for_workers(1, timeout=90)
        total = da.ones((1000, 1000), chunks=(250, 250)).sum().compute()
        s = client.submit(pandas_sum, 100).result()
        print("worker:", list(client.scheduler_info()["workers"].values())[0]["name"], "array sum:", total, "pandas sum:", s)
        assert total == 1_000_000 and s == 4950
finally:
    for p in (worker, sched):
        if p is not None:
            p.send_signal(signal.SIGTERM)
    for p in (worker, sched):
        if p is not None:
            p.wait(timeout=60)
PY

# The image config each image must carry (a Pod's `args` run after the entrypoint; ctr run's arguments replace
# entrypoint and command, so the runs below spell the entrypoint out).
config_check() { # config_check ARCHIVE REF 'python expression over c (the config section)'
  python3 - "$@" <<'PY'
import json, sys, tarfile
archive, ref, expr = sys.argv[1:]
with tarfile.open(archive) as t:
    blob = lambda d: json.load(t.extractfile("blobs/sha256/" + d.split(":")[1]))
    idx = json.load(t.extractfile("index.json"))
    [m] = [m for m in idx["manifests"] if m.get("annotations", {}).get("io.containerd.image.name") == ref]
    c = blob(blob(m["digest"])["config"]["digest"])["config"]
keep = ("Entrypoint", "Cmd", "User", "WorkingDir", "Env")
print(json.dumps({k: c[k] for k in keep if k in c}))
sys.exit(0 if eval(expr, {"c": c}) else 1)
PY
}

while IFS=$'\t' read -r ref archive; do
  case "$ref" in
    registry.k8s.io/pause:*)
      check "config of $ref" config_check "$archive" "$ref" 'c["Entrypoint"] == ["/pause"]'
      check "run $ref; SIGTERM → exit 0" pause_check "$ref"
      ;;
    ghcr.io/dask/dask:latest) ;; # the same image as the versioned name (both names checked above)
    ghcr.io/dask/dask:*)
      check "config of $ref" config_check "$archive" "$ref" \
        'c["Entrypoint"] == ["tini", "-g", "--"] and any(e.startswith("PATH=/opt/conda/bin:") for e in c["Env"])'
      check "run $ref: tini -g -- dask scheduler --version" run verify-dask "$ref" tini -g -- dask scheduler --version
      check "run $ref: import dask, distributed, numpy, pandas" run verify-dask "$ref" tini -g -- \
        python -c 'import dask, distributed, numpy, pandas; print("dask", dask.__version__, "distributed", distributed.__version__, "numpy", numpy.__version__, "pandas", pandas.__version__)'
      check "run $ref: dask-scheduler is not on PATH" run verify-dask "$ref" sh -c '! command -v dask-scheduler'
      check "run $ref: scheduler /health + worker + compute" run verify-dask "$ref" tini -g -- python -c "$DASK_SMOKE"
      ;;
    ghcr.io/cdk8s-dask/dask-operator:*)
      check "config of $ref" config_check "$archive" "$ref" \
        'c["Entrypoint"] == ["node", "build/operator/main.js"] and c["User"] == "1000:1000" and c["WorkingDir"] == "/app"'
      check "run $ref: node build/operator/main.js --help" run verify-operator "$ref" \
        node build/operator/main.js --help
      ;;
    docker.io/library/node:*)
      check "config of $ref" config_check "$archive" "$ref" 'c["Cmd"] == ["node"]'
      check "run $ref: node, npm, npx --version" run verify-node "$ref" sh -c 'node --version && npm --version && npx --version && id node'
      ;;
  esac
done <"$d/images.tsv"
exit "$fail"
