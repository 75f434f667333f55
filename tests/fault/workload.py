"""A mixed register workload through boto3 that records every operation for the
linearizability checker, and proves at-most-once application of writes.

Each item is a register `v` plus `log`, a list to which every applied write appends its own
unique id (`list_append` in the same UpdateItem). At the end `log` is the order in which the
writes of that key were applied: an id twice means a write applied twice; an acknowledged id
missing means a lost write; a refused conditional write present means it was applied anyway.

Keys rotate: each group of KEYS_PER_GROUP keys takes about OPS_PER_KEY operations and then
the workload moves on, so each key's history stays small for the checker.
"""
import itertools
import random
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from linearizability import Op

KEYS_PER_GROUP = 6
OPS_PER_KEY = 25


class Workload:
    def __init__(self, client_factory, table, history, clock, seed=1):
        self.client_factory = client_factory
        self.table = table
        self.history = history
        self.clock = clock
        self.seed = seed
        self.counter = itertools.count()
        self.stop = threading.Event()
        self.keys = set()
        self.keys_lock = threading.Lock()

    def key_for(self, n, rng):
        group = n // (KEYS_PER_GROUP * OPS_PER_KEY)
        key = f"g{group}-k{rng.randrange(KEYS_PER_GROUP)}"
        with self.keys_lock:
            self.keys.add(key)
        return key

    def read(self, ddb, key):
        t0 = self.clock.now()
        try:
            item = ddb.get_item(TableName=self.table, Key={"pk": {"S": key}},
                                ConsistentRead=True).get("Item")
        except (ClientError, BotoCoreError) as e:
            self.history.error(type(e).__name__ if not isinstance(e, ClientError)
                               else e.response["Error"]["Code"])
            return None, False
        value = item["v"]["S"] if item and "v" in item else None
        self.history.add(Op(key=key, kind="read", value=value, invoke=t0,
                            complete=self.clock.now()))
        return value, True

    def write(self, ddb, key, value, expected=None, conditional=False):
        t0 = self.clock.now()
        kwargs = dict(
            TableName=self.table, Key={"pk": {"S": key}},
            UpdateExpression="SET v = :v, #l = list_append(if_not_exists(#l, :empty), :id)",
            ExpressionAttributeNames={"#l": "log"},
            ExpressionAttributeValues={":v": {"S": value}, ":empty": {"L": []},
                                       ":id": {"L": [{"S": value}]}})
        if conditional:
            if expected is None:
                kwargs["ConditionExpression"] = "attribute_not_exists(v)"
            else:
                kwargs["ConditionExpression"] = "v = :exp"
                kwargs["ExpressionAttributeValues"][":exp"] = {"S": expected}
        kind = "cas" if conditional else "write"
        try:
            ddb.update_item(**kwargs)
            self.history.add(Op(key=key, kind=kind, value=value, expected=expected, ok=True,
                                invoke=t0, complete=self.clock.now()), "acked")
            return "acked"
        except ClientError as e:
            code = e.response["Error"]["Code"]
            if code == "ConditionalCheckFailedException" and conditional:
                self.history.add(Op(key=key, kind=kind, value=value, expected=expected,
                                    ok=False, invoke=t0, complete=self.clock.now()), "refused")
                return "refused"
            self.history.error(code)
        except BotoCoreError as e:
            self.history.error(type(e).__name__)
        # Unknown outcome: it may have been applied (at any time after t0) or not.
        self.history.add(Op(key=key, kind=kind, value=value, expected=expected, ok=True,
                            invoke=t0, complete=None))
        return "unknown"

    def worker(self, wid):
        rng = random.Random(self.seed * 1000 + wid)
        ddb = self.client_factory()
        seen = {}
        while not self.stop.is_set():
            n = next(self.counter)
            key = self.key_for(n, rng)
            value = f"w{wid}-{n}"
            r = rng.random()
            if r < 0.3:
                v, ok = self.read(ddb, key)
                if ok:
                    seen[key] = v
            elif r < 0.6:
                self.write(ddb, key, value)
            else:
                # Read-modify-write: conditional on the value this worker last saw.
                if key not in seen:
                    v, ok = self.read(ddb, key)
                    if not ok:
                        continue
                    seen[key] = v
                outcome = self.write(ddb, key, value, expected=seen[key], conditional=True)
                if outcome == "acked":
                    seen[key] = value
                else:
                    seen.pop(key, None)

    def run_in_background(self, workers):
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True)
                   for i in range(workers)]
        for t in threads:
            t.start()
        return threads

    def verify(self, ddb):
        """Final reads of every key (recorded), then the at-most-once and no-lost-write checks
        over each key's application log. Returns a list of problems (empty = fine)."""
        problems = []
        applied_ids = {}
        self.final_logs = {}
        for key in sorted(self.keys):
            for attempt in range(50):
                try:
                    item = ddb.get_item(TableName=self.table, Key={"pk": {"S": key}},
                                        ConsistentRead=True).get("Item")
                    break
                except (ClientError, BotoCoreError):
                    time.sleep(0.2)
            else:
                problems.append(f"{key}: unreadable after the run")
                continue
            t = self.clock.now()
            value = item["v"]["S"] if item and "v" in item else None
            self.history.add(Op(key=key, kind="read", value=value, invoke=t, complete=t))
            log = [x["S"] for x in item.get("log", {}).get("L", [])] if item else []
            if log and log[-1] != value:
                problems.append(f"{key}: v={value} but the last applied write is {log[-1]}")
            dup = {x for x in log if log.count(x) > 1}
            if dup:
                problems.append(f"{key}: writes applied more than once: {sorted(dup)}")
            for x in log:
                applied_ids[x] = key
            self.final_logs[key] = log
        for op in self.history.ops:
            if op.kind == "read":
                continue
            if op.value in self.history.acked and op.value not in applied_ids:
                problems.append(f"{op.key}: acknowledged write {op.value} lost")
            if op.value in self.history.refused and op.value in applied_ids:
                log = self.final_logs.get(op.key, [])
                pos = log.index(op.value)
                problems.append(f"{op.key}: refused conditional write {op.value} (expected "
                                f"{op.expected}, {op.invoke:.3f}-{op.complete:.3f}) was applied "
                                f"after {log[max(0, pos - 2):pos]}")
        return problems
