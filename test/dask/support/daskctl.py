"""Small Dask client actions for the scheduler-client tests (run with the project's .venv python).

    daskctl.py persist  tcp://127.0.0.1:PORT NAME N   compute N chunks on the workers, publish them as dataset NAME
    daskctl.py check    tcp://127.0.0.1:PORT NAME N   read dataset NAME back and verify every chunk
    daskctl.py submit   tcp://127.0.0.1:PORT N SECS   queue N tasks sleeping SECS each, then wait until killed

Every action prints one JSON line on stdout (submit prints it once the tasks are queued).
"""
import hashlib
import json
import sys
import time

from distributed import Client


def chunk(i):
    # 64 KiB of deterministic bytes per chunk
    seed = hashlib.sha256(str(i).encode()).digest()
    return seed * 2048


def digest(b):
    return hashlib.sha256(b).hexdigest()


def where(client, futures):
    """worker name -> number of chunks it holds"""
    who_has = client.who_has(futures)
    names = {addr: info.get("name") for addr, info in client.scheduler_info(n_workers=-1)["workers"].items()}
    counts = {}
    for holders in who_has.values():
        for addr in holders:
            counts[str(names.get(addr, addr))] = counts.get(str(names.get(addr, addr)), 0) + 1
    return counts


def main():
    action, address = sys.argv[1], sys.argv[2]
    with Client(address, timeout="20s") as client:
        if action == "persist":
            name, n = sys.argv[3], int(sys.argv[4])
            workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
            # spread the chunks round-robin so that every worker holds some
            futures = [client.submit(chunk, i, pure=False, workers=[workers[i % len(workers)]]) for i in range(n)]
            client.gather(futures)
            client.publish_dataset(futures, name=name)
            print(json.dumps({"persisted": n, "where": where(client, futures)}), flush=True)
        elif action == "check":
            name, n = sys.argv[3], int(sys.argv[4])
            futures = client.get_dataset(name)
            values = client.gather(futures)
            bad = [i for i, v in enumerate(values) if digest(v) != digest(chunk(i))]
            print(json.dumps({"chunks": len(values), "bad": bad, "ok": len(values) == n and not bad, "where": where(client, futures)}), flush=True)
        elif action == "submit":
            n, secs = int(sys.argv[3]), float(sys.argv[4])
            futures = client.map(time.sleep, [secs] * n, pure=False)
            print(json.dumps({"submitted": len(futures)}), flush=True)
            while True:
                time.sleep(60)
        else:
            raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    main()
