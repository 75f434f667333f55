#!/usr/bin/env python3
"""Issue 7's full-size run, by hand (figures go to BENCHMARKS.md "Scale-out"):

  1. a local fleet (scripts/fleet.sh, 3 storage nodes, 3 replicas) with the autoscaler's split
     threshold at --split-mb (8 MB); shoal-bench loads --records items of --item-size bytes
     (200,000 x 1 KB = ~200 MB) over 32 connections while the table splits: throughput, p99
     and errors of that load, partitions at the end, and each split's time (metadata's log:
     planned to catalog updated);
  2. three more storage nodes join (two per zone) while shoal-bench runs workload A: time
     until every zone is within +-20 % of its mean replica count, then until every node leads
     within +-20 % of the mean (leadership transfers), snapshot (move) throughput from the
     storage nodes' logs, p99 and errors of the clients meanwhile.

    python3 bench/scale_run.py --build-dir build [--records 200000] [--split-mb 8]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NATS_PORT, PORT, ADMIN = 17990, 18990, 20990


def metric(port, name, **labels):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3).read().decode()
    total = 0.0
    for m in re.finditer(r"^(\w+)(?:\{([^}]*)\})? (\S+)$", text, re.M):
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if m.group(1) == name and all(got.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--records", type=int, default=200000)
    ap.add_argument("--item-size", type=int, default=1024)
    ap.add_argument("--split-mb", type=int, default=8)
    ap.add_argument("--move-seconds", type=int, default=90)
    args = ap.parse_args()
    run = os.path.join(ROOT, ".run", "scale-bench")
    env = dict(os.environ, SHOAL_RUN_DIR=run, SHOAL_NATS_PORT=str(NATS_PORT), SHOAL_PORT=str(PORT),
               SHOAL_ADMIN_BASE=str(ADMIN), SHOAL_BUILD_DIR=args.build_dir,
               SHOAL_AUTOSCALER_ARGS=f"--split-size-bytes {args.split_mb << 20}")
    fleet = lambda *a: subprocess.run(["bash", os.path.join(ROOT, "scripts", "fleet.sh"), *a],
                                      env=env, check=True, capture_output=True, text=True)
    bench = os.path.join(args.build_dir, "bench", "driver", "shoal-bench")
    common = ["--endpoint", f"http://127.0.0.1:{PORT}", "--records", str(args.records),
              "--item-size", str(args.item_size), "--connections", "32", "--threads", "2",
              "--quiet", "--access-key", "shoal", "--secret-key", "shoal-secret"]
    subprocess.run(["rm", "-rf", run])
    fleet("stop")
    fleet("start")
    try:
        t0 = time.monotonic()
        subprocess.run([bench, "--workload", "load", "--create-table", "--json",
                        os.path.join(run, "load.json"), *common], check=True)
        load_s = time.monotonic() - t0
        load = json.load(open(os.path.join(run, "load.json")))
        # Splits go on while the last partitions pass the threshold: wait until it is stable.
        last, stable = -1, 0
        while stable < 10:
            n = metric(ADMIN + 1, "shoal_metadata_partitions", table="usertable")
            stable = stable + 1 if n == last else 0
            last = n
            time.sleep(1)
        log = open(os.path.join(run, "logs", "metadata.log")).read()
        planned = {m.group(1): m.group(0)[:23] for m in re.finditer(
            r"split of (\S+) in usertable at \S+ into \S+ planned", log)}
        durations = []
        for m in re.finditer(r"^(\S+) I \[metadata\] metadata: (\S+) split at .* (\d+) ms,", log, re.M):
            durations.append(int(m.group(3)))
        sizes = [metric(ADMIN + 10 + n, "shoal_storage_replica_size_bytes") for n in (1, 2, 3)]
        print(json.dumps({"load": load, "load_seconds": round(load_s, 1), "partitions": last,
                          "splits": len(durations),
                          "split_ms_median": statistics.median(durations) if durations else None,
                          "split_ms_max": max(durations) if durations else None,
                          "replica_bytes_per_node": sizes}, indent=1))

        # Scale out under load.
        wl = subprocess.Popen([bench, "--workload", "a", "--duration", str(args.move_seconds),
                               "--warmup", "0", "--json", os.path.join(run, "move.json"), *common])
        time.sleep(5)
        t1 = time.monotonic()
        for n in (4, 5, 6):
            fleet("start-node", str(n))
        balanced_s = None
        while time.monotonic() - t1 < args.move_seconds - 5:
            counts = {n: metric(ADMIN + 10 + n, "shoal_storage_partitions") for n in range(1, 7)}
            ok = True
            for z in (1, 2, 3):
                a, b = counts[z], counts[z + 3]
                mean = (a + b) / 2
                if abs(a - b) > 1 and max(abs(a - mean), abs(b - mean)) > 0.2 * mean:
                    ok = False
            if ok:
                balanced_s = time.monotonic() - t1
                break
            time.sleep(1)
        leaders_s = None
        while balanced_s is not None and time.monotonic() - t1 < args.move_seconds - 5:
            leads = [metric(ADMIN + 10 + n, "shoal_storage_partitions_led") for n in range(1, 7)]
            mean = sum(leads) / len(leads)
            if all(abs(c - mean) <= max(0.2 * mean, 1) for c in leads):
                leaders_s = time.monotonic() - t1
                break
            time.sleep(1)
        wl.wait()
        move = json.load(open(os.path.join(run, "move.json")))
        rates, mbs, secs = [], 0.0, 0.0
        for n in (1, 2, 3, 4, 5, 6):
            path = os.path.join(run, "logs", f"storage-n{n}.log")
            for m in re.finditer(r"sent to \S+: \d+ items, ([\d.]+) MB in ([\d.]+) s \(([\d.]+) MB/s\)",
                                 open(path).read()):
                mbs += float(m.group(1))
                secs += float(m.group(2))
                rates.append(float(m.group(3)))
        counts = {n: metric(ADMIN + 10 + n, "shoal_storage_partitions") for n in range(1, 7)}
        leads = {n: metric(ADMIN + 10 + n, "shoal_storage_partitions_led") for n in range(1, 7)}
        transfers = metric(ADMIN + 2, "shoal_autoscaler_decisions_total", kind="transfer_leader",
                           result="ok")
        print(json.dumps({"balanced_seconds": balanced_s, "replicas_per_node": counts,
                          "leaders_balanced_seconds": leaders_s, "leaders_per_node": leads,
                          "leader_transfers": transfers,
                          "snapshots": len(rates), "snapshot_mb": round(mbs, 1),
                          "snapshot_mb_per_s_overall": round(mbs / secs, 1) if secs else None,
                          "snapshot_mb_per_s_median": statistics.median(rates) if rates else None,
                          "workload_a_during_moves": move}, indent=1))
    finally:
        fleet("stop")


if __name__ == "__main__":
    sys.exit(main())
