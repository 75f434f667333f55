"""The autoscaler on a real local fleet (scripts/fleet.sh, its own ports and run dir): it
comes up with the fleet, exports its series, splits a table's partition once the data
passes a small --split-size-bytes (1 MiB here), with every item still readable, and moves
replicas onto a storage node that joins zone a until both nodes there are within ±20 % of
their mean.

The split needs storage nodes publishing NodeStats on shoal.stats.<node> and metadata
answering SplitPartition; the moves need metadata answering MoveReplica. While one is
missing its test is skipped with the reason (it starts passing once it lands).

    SHOAL_BUILD_DIR=build-as python3 -m pytest -q tests/autoscaler
"""
import os
import re
import shutil
import subprocess
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NATS_PORT, PORT, ADMIN = 17800, 18800, 20800
SPLIT_BYTES = 1 << 20


class Fleet:
    def __init__(self):
        self.run_dir = os.path.join(ROOT, ".run", "autoscaler")
        self.env = dict(os.environ, SHOAL_ZONES="local", SHOAL_RUN_DIR=self.run_dir,
                        SHOAL_NATS_PORT=str(NATS_PORT), SHOAL_PORT=str(PORT),
                        SHOAL_ADMIN_BASE=str(ADMIN), SHOAL_PARTITIONS="1",
                        SHOAL_AUTOSCALER_ARGS=f"--split-size-bytes {SPLIT_BYTES} "
                                              "--interval-ms 500 --catalog-refresh-ms 1000",
                        SHOAL_BUILD_DIR=os.environ.get("SHOAL_BUILD_DIR",
                                                       os.path.join(ROOT, "build")))

    def fleet(self, *args):
        return subprocess.run(["bash", os.path.join(ROOT, "scripts", "fleet.sh"), *args],
                              env=self.env, check=True, capture_output=True, text=True,
                              timeout=180).stdout

    def start(self):
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.fleet("stop")
        try:
            self.fleet("start")
        except subprocess.CalledProcessError as e:
            self.fleet("stop")
            raise RuntimeError(f"fleet did not start: {e.stdout}\n{e.stderr}") from e

    def client(self):
        return boto3.client(
            "dynamodb", endpoint_url=f"http://127.0.0.1:{PORT}", region_name="us-east-1",
            aws_access_key_id="shoal", aws_secret_access_key="shoal-secret",
            config=Config(retries={"total_max_attempts": 5, "mode": "standard"},
                          connect_timeout=5, read_timeout=15))

    def log(self, name):
        try:
            with open(os.path.join(self.run_dir, "logs", f"{name}.log")) as f:
                return f.read()
        except OSError:
            return ""


def scrape(port):
    """[(name, {label: value}, value)] of one admin port's /metrics."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    out = []
    for m in re.finditer(r"^(\w+)(?:\{([^}]*)\})? (\S+)$", text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def value(port, name, **labels):
    return sum(v for n, l, v in scrape(port) if n == name and all(l.get(k) == x
                                                                  for k, x in labels.items()))


@pytest.fixture(scope="module")
def fleet():
    binary = os.path.join(Fleet().env["SHOAL_BUILD_DIR"], "services", "autoscaler",
                          "shoal-autoscaler")
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{binary} not built")
    f = Fleet()
    f.start()
    yield f
    f.fleet("stop")


def test_autoscaler_runs_with_the_fleet(fleet):
    with urllib.request.urlopen(f"http://127.0.0.1:{ADMIN + 2}/readyz", timeout=2) as r:
        assert r.status == 200
    series = scrape(ADMIN + 2)
    names = {n for n, _, _ in series}
    assert any(n == "shoal_build_info" and l.get("service") == "autoscaler"
               for n, l, _ in series)
    for name in ("shoal_autoscaler_decisions_total", "shoal_autoscaler_stats_received_total",
                 "shoal_autoscaler_partitions_tracked", "shoal_autoscaler_moves_in_flight"):
        assert name in names, name
    # Three zones with one node each and next to no data: one node per zone.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        desired = {l["zone"]: v for n, l, v in scrape(ADMIN + 2)
                   if n == "shoal_autoscaler_desired_nodes"}
        if len(desired) == 3:
            break
        time.sleep(0.2)
    assert desired == {"zone-a": 1, "zone-b": 1, "zone-c": 1}, desired


def test_size_split(fleet):
    ddb = fleet.client()
    table = "autoscaled"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.1})
    assert value(ADMIN + 1, "shoal_metadata_partitions", table=table) == 1

    # About 4 MiB: 400 items of 10 KiB.
    blob = "x" * 10240
    keys = [f"k{i:04d}" for i in range(400)]
    for i in range(0, len(keys), 25):
        requests = [{"PutRequest": {"Item": {"pk": {"S": k}, "v": {"S": blob}}}}
                    for k in keys[i:i + 25]]
        while requests:
            out = ddb.batch_write_item(RequestItems={table: requests})
            requests = out.get("UnprocessedItems", {}).get(table, [])

    deadline = time.monotonic() + 10
    while value(ADMIN + 2, "shoal_autoscaler_stats_received_total") == 0:
        if time.monotonic() > deadline:
            pytest.skip("storage nodes publish no stats on shoal.stats.<node> yet "
                        "(shoal_autoscaler_stats_received_total stays 0)")
        time.sleep(0.2)

    deadline = time.monotonic() + 90
    while value(ADMIN + 1, "shoal_metadata_partitions", table=table) < 2:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    partitions = value(ADMIN + 1, "shoal_metadata_partitions", table=table)
    if partitions < 2:
        asked = value(ADMIN + 2, "shoal_autoscaler_decisions_total", kind="split_size")
        meta_log = fleet.log("metadata")
        if asked > 0 and re.search(r"unknown rpc \S*SplitPartition", meta_log):
            pytest.skip("metadata does not implement SplitPartition yet (unknown rpc)")
        errors = value(ADMIN + 2, "shoal_autoscaler_decisions_total", kind="split_size",
                       result="error")
        pytest.fail(f"no split within 90 s: {partitions} partition(s); split_size decisions "
                    f"{asked} ({errors} errors); autoscaler log:\n"
                    + fleet.log("autoscaler")[-3000:])

    assert value(ADMIN + 2, "shoal_autoscaler_decisions_total", kind="split_size",
                 result="ok") >= 1
    assert re.search(r"autoscaler: split \S+ of autoscaled for size: .* > 1 MiB at the data median",
                     fleet.log("autoscaler")), fleet.log("autoscaler")[-3000:]
    # Every item is still there, exactly once.
    seen = []
    kwargs = {"TableName": table, "ProjectionExpression": "pk", "ConsistentRead": True}
    while True:
        page = ddb.scan(**kwargs)
        seen += [item["pk"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(seen) == keys
    for k in keys[::37]:
        item = ddb.get_item(TableName=table, Key={"pk": {"S": k}}, ConsistentRead=True)["Item"]
        assert item["v"]["S"] == blob


def test_rebalance_after_a_node_joins(fleet):
    ddb = fleet.client()
    tables = [f"spread{i}" for i in range(4)]
    for t in tables:
        ddb.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    for t in tables:
        ddb.get_waiter("table_exists").wait(TableName=t, WaiterConfig={"Delay": 0.1})
        ddb.put_item(TableName=t, Item={"pk": {"S": "k"}, "v": {"S": t}})

    def replicas(n):
        return value(ADMIN + 10 + n, "shoal_storage_partitions")

    # Zone a: n1 holds a replica of every partition; n4 joins empty.
    fleet.fleet("start-node", "4")
    deadline = time.monotonic() + 30
    while value(ADMIN + 2, "shoal_autoscaler_decisions_total", kind="move") == 0:
        if time.monotonic() > deadline:
            pytest.fail("no move planned within 30 s; autoscaler log:\n"
                        + fleet.log("autoscaler")[-3000:])
        time.sleep(0.2)
    if re.search(r"unknown rpc \S*MoveReplica", fleet.log("metadata")):
        pytest.skip("metadata does not implement MoveReplica yet (unknown rpc)")

    deadline = time.monotonic() + 180
    while True:
        a, b = replicas(1), replicas(4)
        total = a + b
        if total > 0 and all(abs(c * 2 - total) * 100 <= total * 20 or abs(a - b) <= 1
                             for c in (a, b)):
            break
        if time.monotonic() > deadline:
            pytest.fail(f"zone a not balanced within 180 s: n1 {a}, n4 {b}; autoscaler log:\n"
                        + fleet.log("autoscaler")[-3000:])
        time.sleep(0.5)
    assert re.search(r"autoscaler: move \S+ of spread\d from n1 to n4: rebalance zone-a",
                     fleet.log("autoscaler"))
    for t in tables:
        item = ddb.get_item(TableName=t, Key={"pk": {"S": "k"}}, ConsistentRead=True)["Item"]
        assert item["v"]["S"] == t
