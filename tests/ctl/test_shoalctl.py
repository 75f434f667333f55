"""shoalctl and the router's /admin/tables/<name>/partitions on a real local fleet.

Starts scripts/fleet.sh on its own ports (NATS 17900, router 18900, admin ports from 20900;
run dir under /tmp), creates a table with boto3, and checks what `shoalctl tables`,
`partitions` (text and --json), `nodes` print against the fleet, and that the router's admin
endpoint answers the same document as `shoalctl partitions --json`. The operations (split,
move, drain) run when the metadata service serves their RPCs, and are skipped otherwise.

    SHOAL_BUILD_DIR=build python3 -m pytest -q tests/ctl
"""
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("SHOAL_BUILD_DIR", os.path.join(ROOT, "build")))
SHOALCTL = os.path.join(BUILD, "services", "shoalctl", "shoalctl")
NATS_PORT, PORT, ADMIN_BASE = 17900, 18900, 20900
RUN_DIR = os.environ.get("CTL_RUN_DIR", "/tmp/shoal-ctl-test")
TABLE = "ctl_orders"
ITEMS = 40


class Fleet:
    def __init__(self):
        self.env = dict(os.environ, SHOAL_RUN_DIR=RUN_DIR, SHOAL_BUILD_DIR=BUILD,
                        SHOAL_NATS_PORT=str(NATS_PORT), SHOAL_PORT=str(PORT),
                        SHOAL_ADMIN_BASE=str(ADMIN_BASE), SHOAL_PARTITIONS="2",
                        SHOAL_ZONES="local")
        self.env.pop("SHOAL_NATS_URL", None)
        self.env.pop("SHOAL_PREFIX", None)
        # An autoscaler in the fleet (when it has one) only watches: the splits and moves
        # here are the test's own.
        autoscaler = os.path.join(BUILD, "services", "autoscaler", "shoal-autoscaler")
        if os.access(autoscaler, os.X_OK) and "--dry-run" in subprocess.run(
                [autoscaler, "--help"], capture_output=True, text=True).stdout:
            self.env["SHOAL_AUTOSCALER_ARGS"] = "--dry-run"

    def fleet(self, *args):
        return subprocess.run(["bash", os.path.join(ROOT, "scripts", "fleet.sh"), *args],
                              env=self.env, check=True, capture_output=True, text=True,
                              timeout=180).stdout

    def start(self):
        self.fleet("stop")
        shutil.rmtree(RUN_DIR, ignore_errors=True)
        try:
            self.fleet("start")
        except subprocess.CalledProcessError as e:
            self.fleet("stop")
            raise RuntimeError(f"fleet did not start: {e.stdout}\n{e.stderr}") from e

    def stop(self):
        self.fleet("stop")

    def ctl(self, *args, timeout=120):
        """Runs shoalctl against this fleet; returns the CompletedProcess."""
        return subprocess.run([SHOALCTL, "--nats", f"nats://127.0.0.1:{NATS_PORT}", *args],
                              env=self.env, capture_output=True, text=True, timeout=timeout)

    def ctl_ok(self, *args, timeout=120):
        r = self.ctl(*args, timeout=timeout)
        assert r.returncode == 0, \
            f"shoalctl {' '.join(args)}: {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r.stdout

    def ctl_json(self, *args):
        return json.loads(self.ctl_ok(*args, "--json"))

    def admin_get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ADMIN_BASE}{path}", timeout=10) as r:
                return r.status, r.headers.get("Content-Type"), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read().decode()

    def client(self):
        return boto3.client(
            "dynamodb", endpoint_url=f"http://127.0.0.1:{PORT}", region_name="us-east-1",
            aws_access_key_id="shoal", aws_secret_access_key="shoal-secret",
            config=Config(retries={"total_max_attempts": 3, "mode": "standard"}))


def wait_for(what, fn, timeout=20, interval=0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last}")


@pytest.fixture(scope="module")
def fleet():
    if not os.access(SHOALCTL, os.X_OK):
        pytest.fail(f"{SHOALCTL} missing: build first (SHOAL_BUILD_DIR={BUILD})")
    f = Fleet()
    f.start()
    try:
        ddb = f.client()
        ddb.create_table(TableName=TABLE,
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         BillingMode="PAY_PER_REQUEST")
        ddb.get_waiter("table_exists").wait(TableName=TABLE,
                                            WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
        for i in range(ITEMS):
            ddb.put_item(TableName=TABLE, Item={"id": {"S": f"k{i}"}, "v": {"S": "x" * 100}})
        yield f
    finally:
        if os.environ.get("CTL_KEEP_RUN") != "1":
            f.stop()
            shutil.rmtree(RUN_DIR, ignore_errors=True)
        else:
            f.stop()


def settled_partitions(fleet):
    """`partitions --json` once every partition has a leader and the items are all counted."""
    def ready():
        doc = fleet.ctl_json("partitions", TABLE)
        parts = doc["partitions"]
        if any(p["leader"] is None or p["items"] is None for p in parts):
            return None
        return doc if sum(p["items"] for p in parts) == ITEMS else None
    return wait_for("leaders and item counts", ready, timeout=30, interval=0.5)


def test_partitions_json(fleet):
    doc = settled_partitions(fleet)
    assert doc["table"] == TABLE
    assert doc["status"] == "ACTIVE"
    assert doc["table_id"]
    parts = doc["partitions"]
    assert len(parts) == 2
    assert parts[0]["hash_lo"] == "0x0000000000000000"
    assert parts[-1]["hash_hi"] == "0xffffffffffffffff"
    for a, b in zip(parts, parts[1:]):  # contiguous ranges
        assert int(a["hash_hi"], 16) + 1 == int(b["hash_lo"], 16)
    for p in parts:
        assert p["id"].startswith(doc["table_id"] + ".")
        assert len(p["replicas"]) == 3
        assert sorted(r["zone"] for r in p["replicas"]) == ["zone-a", "zone-b", "zone-c"]
        leaders = [r["node"] for r in p["replicas"] if r["leader"]]
        assert leaders == [p["leader"]]
        assert isinstance(p["size_bytes"], int)
        assert p["operation"] is None


def test_partitions_text(fleet):
    doc = settled_partitions(fleet)
    out = fleet.ctl_ok("partitions", TABLE)
    lines = out.splitlines()
    assert lines[0].split() == ["PARTITION", "HASH", "RANGE", "REPLICAS", "ITEMS", "SIZE",
                                "OPERATION"]
    assert len(lines) == 1 + len(doc["partitions"])
    for line, p in zip(lines[1:], doc["partitions"]):
        assert line.startswith(p["id"] + " ")
        assert f'{p["hash_lo"]}..{p["hash_hi"]}' in line
        for r in p["replicas"]:
            assert f'{r["node"]}@{r["zone"]}{"*" if r["leader"] else ""}' in line
        assert f' {p["items"]} ' in line
        assert " B " in line or "KB" in line or "MB" in line
        assert line.rstrip().endswith("-")  # no operation under way


def test_tables(fleet):
    settled_partitions(fleet)
    out = fleet.ctl_ok("tables")
    assert out.splitlines()[0].split() == ["NAME", "TABLE", "ID", "STATUS", "PARTITIONS", "ITEMS",
                                           "SIZE"]
    row = next(l for l in out.splitlines()[1:] if l.split()[0] == TABLE)
    assert row.split()[2:5] == ["ACTIVE", "2", str(ITEMS)]
    doc = fleet.ctl_json("tables")
    t = next(t for t in doc["tables"] if t["name"] == TABLE)
    assert t["partitions"] == 2 and t["items"] == ITEMS and t["status"] == "ACTIVE"


def test_nodes(fleet):
    doc = fleet.ctl_json("nodes")
    nodes = {n["node"]: n for n in doc["nodes"]}
    assert sorted(nodes) == ["n1", "n2", "n3"]
    assert sorted(n["zone"] for n in nodes.values()) == ["zone-a", "zone-b", "zone-c"]
    assert all(n["alive"] and not n["draining"] for n in nodes.values())
    out = fleet.ctl_ok("nodes")
    lines = out.splitlines()
    assert lines[0].split() == ["NODE", "ZONE", "ALIVE", "DRAINING", "REPLICAS", "LEADERS"]
    assert [l.split()[0] for l in lines[1:]] == ["n1", "n2", "n3"]
    assert all(l.split()[2:4] == ["yes", "no"] for l in lines[1:])


def without_sizes(doc):
    doc = json.loads(json.dumps(doc))
    for p in doc["partitions"]:
        assert "size_bytes" in p
        p.pop("size_bytes")
    return doc


def test_router_admin_endpoint_matches_shoalctl(fleet):
    settled_partitions(fleet)
    status, ctype, body = fleet.admin_get(f"/admin/tables/{TABLE}/partitions")
    assert status == 200, body
    assert ctype == "application/json"
    from_router = json.loads(body)
    from_ctl = fleet.ctl_json("partitions", TABLE)
    # Sizes are RocksDB estimates refreshed in the background: they may move between calls.
    assert without_sizes(from_router) == without_sizes(from_ctl)
    # Byte for byte the same document when nothing moved in between.
    for _ in range(5):
        status, _, body = fleet.admin_get(f"/admin/tables/{TABLE}/partitions")
        if body == fleet.ctl_ok("partitions", TABLE, "--json"):
            break
    else:
        pytest.fail("router and shoalctl documents differ beyond sizes")


def test_errors(fleet):
    r = fleet.ctl("partitions", "no_such_table")
    assert r.returncode == 1
    assert "not found" in r.stderr and r.stdout == ""
    status, _, body = fleet.admin_get("/admin/tables/no_such_table/partitions")
    assert status == 404
    assert "error" in json.loads(body)
    status, _, _ = fleet.admin_get("/admin/tables/x/other")
    assert status == 404
    assert fleet.ctl("partitions").returncode == 2  # usage
    r = fleet.ctl("split", TABLE, "0", "--at", "nope")
    assert r.returncode == 2 and "--at" in r.stderr


# ---- operations: need the metadata service's SplitPartition / MoveReplica / DrainNode -----

def run_op(fleet, *args, timeout=180):
    """Runs an operation; skips the test when metadata does not serve its RPC yet."""
    r = fleet.ctl(*args, timeout=timeout)
    if r.returncode != 0 and "did not answer" in r.stderr:
        pytest.skip(f"metadata does not serve {args[0]} yet: {r.stderr.strip()}")
    assert r.returncode == 0, f"shoalctl {' '.join(args)}: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def test_lead_wait(fleet):
    """TransferLeader end to end: metadata asks the partition's leader, Raft hands over,
    the storage nodes' stats and the partition map both show the new leader, writes go on."""
    doc = settled_partitions(fleet)
    p = doc["partitions"][0]
    old = p["leader"]
    to = sorted(r["node"] for r in p["replicas"] if r["node"] != old)[0]
    out = run_op(fleet, "lead", TABLE, p["id"], "--to", to, "--wait", "--timeout", "30",
                 "--poll-ms", "200")
    assert f"moving the leadership of {p['id']} from {old} to {to}" in out

    def led_by_target():
        q = next(q for q in fleet.ctl_json("partitions", TABLE)["partitions"]
                 if q["id"] == p["id"])
        flags = [r["node"] for r in q["replicas"] if r["leader"]]
        return q if q["leader"] == to and flags == [to] else None
    wait_for("the storage stats to show the new leader", led_by_target, timeout=15)
    ddb = fleet.client()
    for i in range(20):  # writes and strong reads through the new leader
        ddb.put_item(TableName=TABLE, Item={"id": {"S": f"k{i}"}, "v": {"S": "led"}})
        got = ddb.get_item(TableName=TABLE, Key={"id": {"S": f"k{i}"}}, ConsistentRead=True)
        assert got["Item"]["v"]["S"] == "led"
    # A manual placement is pinned (1 h by default): the autoscaler leaves it be.
    q = next(q for q in fleet.ctl_json("partitions", TABLE)["partitions"] if q["id"] == p["id"])
    assert q["pinned_until"] is not None and q["pinned_until"].endswith("Z"), q
    out = run_op(fleet, "unpin", TABLE, p["id"])
    assert "unpinned" in out
    q = next(q for q in fleet.ctl_json("partitions", TABLE)["partitions"] if q["id"] == p["id"])
    assert q["pinned_until"] is None
    out = run_op(fleet, "pin", TABLE, p["id"], "--for", "10m")
    assert "pinned until" in out
    assert "pinned until" in fleet.ctl("partitions", TABLE).stdout
    run_op(fleet, "unpin", TABLE, p["id"])
    assert fleet.ctl("pin", TABLE, p["id"], "--for", "later").returncode == 2
    # A node that is not a member cannot lead it; an unknown partition is not found.
    r = fleet.ctl("lead", TABLE, p["id"], "--to", "n9")
    assert r.returncode == 1 and "not a member" in r.stderr, r.stderr
    r = fleet.ctl("lead", TABLE, "nope", "--to", to)
    assert r.returncode == 1 and "has no partition" in r.stderr, r.stderr


def test_split_wait(fleet):
    before = settled_partitions(fleet)
    first = before["partitions"][0]
    out = run_op(fleet, "split", TABLE, first["id"], "--wait", "--timeout", "60",
                 "--poll-ms", "200")
    assert "splitting " + first["id"] in out
    doc = fleet.ctl_json("partitions", TABLE)
    assert len(doc["partitions"]) == 3
    assert all(p["operation"] is None for p in doc["partitions"])
    # Still the whole hash space, contiguous.
    parts = doc["partitions"]
    assert parts[0]["hash_lo"] == "0x0000000000000000"
    assert parts[-1]["hash_hi"] == "0xffffffffffffffff"
    ranges = sorted((int(p["hash_lo"], 16), int(p["hash_hi"], 16)) for p in parts)
    for a, b in zip(ranges, ranges[1:]):
        assert a[1] + 1 == b[0]


def test_drain_and_move_wait(fleet):
    run_op(fleet, "undrain", "n1")
    fleet.fleet("start-node", "4")  # a second node in zone-a to take n1's replicas
    wait_for("node n4", lambda: any(n["node"] == "n4" and n["alive"]
                                    for n in fleet.ctl_json("nodes")["nodes"]))
    out = run_op(fleet, "drain", "n1", "--wait", "--timeout", "120", "--poll-ms", "250")
    assert "drained" in out
    assert "replicas moved" in out
    nodes = {n["node"]: n for n in fleet.ctl_json("nodes")["nodes"]}
    assert nodes["n1"]["draining"] and nodes["n1"]["replicas"] == 0
    doc = fleet.ctl_json("partitions", TABLE)
    for p in doc["partitions"]:
        assert "n1" not in [r["node"] for r in p["replicas"]]
        assert "n4" in [r["node"] for r in p["replicas"]]
    run_op(fleet, "undrain", "n1")
    nodes = {n["node"]: n for n in fleet.ctl_json("nodes")["nodes"]}
    assert not nodes["n1"]["draining"]

    # And one replica back, by hand.
    pid = doc["partitions"][0]["id"]
    out = run_op(fleet, "move", TABLE, pid, "--from", "n4", "--to", "n1", "--wait",
                 "--timeout", "60", "--poll-ms", "200")
    assert f"{pid}: " in out
    doc = fleet.ctl_json("partitions", TABLE)
    p = next(p for p in doc["partitions"] if p["id"] == pid)
    assert sorted(r["node"] for r in p["replicas"])[0] == "n1"
    assert "n4" not in [r["node"] for r in p["replicas"]]
    assert p["operation"] is None
