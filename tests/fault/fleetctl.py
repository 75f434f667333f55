"""Helpers shared by the fault tests: a local fleet of our own (its own ports and run dir),
node control through scripts/fleet.sh, Raft state read from the storage nodes' /metrics,
and a recorder of operation histories for the linearizability checker."""
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.request

import boto3
from botocore.config import Config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class LocalFleet:
    """A fleet started with scripts/fleet.sh under .run/<name>; `env` picks ports/zones."""

    def __init__(self, name, nats_port, port, admin_base, zones="local", partitions=1):
        self.env = dict(os.environ, SHOAL_ZONES=zones,
                        SHOAL_RUN_DIR=os.path.join(ROOT, ".run", name),
                        SHOAL_NATS_PORT=str(nats_port), SHOAL_PORT=str(port),
                        SHOAL_ADMIN_BASE=str(admin_base), SHOAL_PARTITIONS=str(partitions),
                        # The faults under test, not the autoscaler's moves (it still runs
                        # and decides; tests/autoscaler checks what it does).
                        SHOAL_AUTOSCALER_ARGS=os.environ.get("SHOAL_AUTOSCALER_ARGS",
                                                             "--dry-run"),
                        SHOAL_BUILD_DIR=os.environ.get("SHOAL_BUILD_DIR",
                                                       os.path.join(ROOT, "build")))
        self.port = port
        self.admin_base = admin_base
        self.nodes = [1, 2, 3]  # storage nodes started (start_extra_node adds 4..6)

    def start_extra_node(self, n):
        self.run("start-node", str(n))
        if n not in self.nodes:
            self.nodes.append(n)

    def run(self, *args):
        return subprocess.run(["bash", os.path.join(ROOT, "scripts", "fleet.sh"), *args],
                              env=self.env, check=True, capture_output=True, text=True,
                              timeout=180).stdout

    def start(self):
        shutil.rmtree(self.env["SHOAL_RUN_DIR"], ignore_errors=True)
        self.run("stop")
        try:
            self.run("start")
        except subprocess.CalledProcessError as e:
            self.run("stop")
            raise RuntimeError(f"fleet did not start: {e.stdout}\n{e.stderr}") from e

    def stop(self):
        self.run("stop")

    def client(self, attempts=1, read_timeout=15):
        # total_max_attempts counts the first try (botocore's max_attempts counts retries).
        return boto3.client(
            "dynamodb", endpoint_url=f"http://127.0.0.1:{self.port}", region_name="us-east-1",
            aws_access_key_id="shoal", aws_secret_access_key="shoal-secret",
            config=Config(retries={"total_max_attempts": attempts, "mode": "standard"},
                          connect_timeout=5, read_timeout=read_timeout,
                          max_pool_connections=32))

    def metrics_url(self, n):
        env = os.path.join(self.env["SHOAL_RUN_DIR"], "endpoints.env")
        if os.path.exists(env):
            with open(env) as f:
                hosts = dict(line.strip().split("=", 1) for line in f if "=" in line)
            return f"http://{hosts[f'STORAGE_ADMIN_{n}']}/metrics"
        return f"http://127.0.0.1:{self.admin_base + 10 + n}/metrics"

    def raft_state(self, table_id):
        """{node: {partition: {"leader": 0|1, "term": t, "commit": c, "applied": a,
        "items": i}}} for the replicas of `table_id`, from every node that answers."""
        names = {"shoal_storage_replica_leader": "leader", "shoal_storage_raft_term": "term",
                 "shoal_storage_raft_commit_index": "commit",
                 "shoal_storage_raft_applied_index": "applied",
                 "shoal_storage_replica_items": "items",
                 "shoal_storage_replica_reads_total": "reads"}
        out = {}
        for n in self.nodes:
            try:
                text = urllib.request.urlopen(self.metrics_url(n), timeout=1).read().decode()
            except OSError:
                continue
            node = out.setdefault(n, {})
            for m in re.finditer(r'^(\w+)\{([^}]*)\} (\S+)$', text, re.M):
                if m.group(1) not in names:
                    continue
                labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
                if labels.get("table_id") != table_id:
                    continue
                node.setdefault(labels["partition"], {})[names[m.group(1)]] = int(float(m.group(3)))
        return out

    def leaders(self, table_id):
        """{partition: node} of current leaders (highest term wins if two claim it)."""
        best = {}
        for node, parts in self.raft_state(table_id).items():
            for pid, s in parts.items():
                if s.get("leader") and (pid not in best or s["term"] > best[pid][1]):
                    best[pid] = (node, s["term"])
        return {pid: node for pid, (node, _) in best.items()}

    def wait_leaders(self, table_id, partitions, timeout=15, exclude=()):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leaders = self.leaders(table_id)
            if len(leaders) == partitions and not set(leaders.values()) & set(exclude):
                return leaders
            time.sleep(0.1)
        raise AssertionError(f"no leaders for {table_id}: {self.raft_state(table_id)}")

    def wait_caught_up(self, table_id, timeout=20):
        """Every replica of every partition has applied what its leader had committed when
        the wait began (under load followers trail the newest entries by design)."""
        deadline = time.monotonic() + timeout
        targets = None
        while True:
            state = self.raft_state(table_id)
            commits = {}
            for parts in state.values():
                for pid, s in parts.items():
                    commits[pid] = max(commits.get(pid, 0), s.get("commit", 0))
            if targets is None and len(state) >= 3:
                targets = commits
            lagging = [(n, pid) for n, parts in state.items() for pid, s in parts.items()
                       if targets is None or s.get("applied", 0) < targets.get(pid, 0)]
            if targets is not None and len(state) >= 3 and not lagging:
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"replicas did not catch up: {state}")
            time.sleep(0.2)


def create_table(ddb, name):
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1})
    return ddb.describe_table(TableName=name)["Table"]["TableId"]


class Clock:
    def __init__(self):
        self.t0 = time.monotonic()

    def now(self):
        return time.monotonic() - self.t0


class History:
    """Thread-safe list of linearizability.Op, plus the ids of writes by outcome."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ops = []
        self.acked = set()     # write/cas ids known applied
        self.refused = set()   # cas ids known not applied (condition false)
        self.errors = {}

    def add(self, op, outcome=None):
        with self.lock:
            op.id = len(self.ops)
            self.ops.append(op)
            if outcome == "acked":
                self.acked.add(op.value)
            elif outcome == "refused":
                self.refused.add(op.value)

    def error(self, kind):
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1
