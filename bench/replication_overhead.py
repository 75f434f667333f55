#!/usr/bin/env python3
"""What three-way Raft replication costs: the same PutItem / GetItem load against a local
fleet with 1 replica per partition and with 3 (the default), one after the other on this
machine, reporting throughput and latency percentiles and the ratio of the two.

The load comes from CLIENTS processes, each a boto3 client doing one request at a time with
a 1 KB item, so figures include Python's own cost per request; the ratio is the point.

    python3 bench/replication_overhead.py [--seconds 20] [--clients 8]
"""
import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "fault"))
from fleetctl import LocalFleet, create_table  # noqa: E402


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def client_loop(args):
    port, table, op, seconds, cid = args
    f = LocalFleet.__new__(LocalFleet)
    f.port = port
    ddb = f.client(attempts=1)
    payload = "x" * 1000
    lat = []
    errors = 0
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        key = {"pk": {"S": f"c{cid}-{n % 500}"}}
        t0 = time.perf_counter()
        try:
            if op == "put":
                ddb.put_item(TableName=table, Item={**key, "v": {"S": payload}})
            else:
                ddb.get_item(TableName=table, Key=key, ConsistentRead=True)
            lat.append(time.perf_counter() - t0)
        except Exception:  # noqa: BLE001 - counted
            errors += 1
        n += 1
    return lat, errors


def run(rf, seconds, clients, port_base):
    os.environ["SHOAL_REPLICAS"] = str(rf)
    fleet = LocalFleet(f"bench-rf{rf}", nats_port=port_base, port=port_base + 100,
                       admin_base=port_base + 200, partitions=4)
    fleet.start()
    try:
        ddb = fleet.client(attempts=3)
        create_table(ddb, "bench")
        results = {}
        with mp.Pool(clients) as pool:
            for op in ("put", "get"):
                out = pool.map(client_loop, [(fleet.port, "bench", op, seconds, c)
                                             for c in range(clients)])
                lat = [x for l, _ in out for x in l]
                results[op] = {
                    "ops_s": len(lat) / seconds,
                    "p50_ms": percentile(lat, 50) * 1e3, "p95_ms": percentile(lat, 95) * 1e3,
                    "p99_ms": percentile(lat, 99) * 1e3,
                    "errors": sum(e for _, e in out),
                }
        return results
    finally:
        fleet.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=8)
    a = ap.parse_args()
    r1 = run(1, a.seconds, a.clients, 16500)
    r3 = run(3, a.seconds, a.clients, 16510)
    print(f"| operation | replicas | ops/s | p50 ms | p95 ms | p99 ms | errors |")
    print(f"|---|---|---|---|---|---|---|")
    for op in ("put", "get"):
        for rf, r in ((1, r1), (3, r3)):
            x = r[op]
            print(f"| {'PutItem' if op == 'put' else 'GetItem (consistent)'} | {rf} | "
                  f"{x['ops_s']:.0f} | {x['p50_ms']:.2f} | {x['p95_ms']:.2f} | "
                  f"{x['p99_ms']:.2f} | {x['errors']} |")
    for op in ("put", "get"):
        print(f"{op}: throughput RF3/RF1 = {r3[op]['ops_s'] / r1[op]['ops_s']:.2f}, "
              f"p50 RF3/RF1 = {r3[op]['p50_ms'] / r1[op]['p50_ms']:.2f}")


if __name__ == "__main__":
    main()
