"""Client side of bench/real-node-vs-upstream.ts's scale-down scenario (run from the project's venv).

    python bench/real-node-persist.py tcp://127.0.0.1:PORT PARTITIONS BYTES

Persists PARTITIONS blocks of BYTES random bytes each over the cluster's workers; every block also carries a token
drawn when it is computed, so a block the scheduler had to recompute (its data was lost) has a new token. Prints
`PERSISTED {...}` once every key is in memory, waits for one line on stdin (the bench scales the cluster down in
between), then prints `AFTER {...}`: keys with no holder at that moment, keys whose future is not finished, and keys
recomputed (token changed) when their tokens are read again.
"""
import json
import sys
import time

from distributed import Client, wait


def block(i, size):
    import os
    import uuid

    return (uuid.uuid4().hex, os.urandom(size))


def token(b):
    return b[0]


def main():
    address, parts, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    client = Client(address, timeout=60)
    futures = client.map(block, range(parts), size=size, pure=False)
    wait(futures, timeout=240)
    keys = [f.key for f in futures]
    before = client.gather(client.map(token, futures, pure=False))
    holders = client.who_has(futures)
    per_worker = {}
    for k in keys:
        for w in holders.get(k, ()):
            per_worker[w] = per_worker.get(w, 0) + 1
    print("PERSISTED " + json.dumps({"keys": len(keys), "bytes": parts * size, "workers": len(per_worker), "perWorker": sorted(per_worker.values())}), flush=True)

    sys.stdin.readline()
    t0 = time.monotonic()
    now = client.who_has(futures)
    missing = [k for k in keys if not now.get(k)]
    not_finished = [f.key for f in futures if f.status != "finished"]
    after = client.gather(client.map(token, futures, pure=False))
    recomputed = [k for k, a, b in zip(keys, before, after) if a != b]
    print("AFTER " + json.dumps({
        "keys": len(keys),
        "missingNow": len(missing),
        "notFinished": len(not_finished),
        "recomputed": len(recomputed),
        "lost": len(set(missing) | set(not_finished) | set(recomputed)),
        "workers": len(client.scheduler_info()["workers"]),
        "checkSeconds": round(time.monotonic() - t0, 2),
    }), flush=True)
    client.close()


if __name__ == "__main__":
    main()
