"""A whole zone cut off for real (SHOAL_ZONES=netns: each zone's storage node in its own
network namespace behind a bridge; cutting its link is a network partition, not a kill).

Every partition is a Raft group with one replica per zone, so with any one zone gone every table
must stay readable (strongly consistent) and writable; once healed, the zone's replicas catch
up with everything written meanwhile. The zone cut is the one whose node leads the most
partitions, so leaders must move."""
import shutil
import subprocess
import time

import pytest

from fleetctl import LocalFleet, create_table


def netns_usable():
    if shutil.which("ip") is None:
        return False
    probe = subprocess.run(["ip", "netns", "add", "shoalprobe"], capture_output=True)
    subprocess.run(["ip", "netns", "del", "shoalprobe"], capture_output=True)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not netns_usable(),
                                reason="network namespaces need root and iproute2")


@pytest.fixture(scope="module")
def zoned_fleet():
    f = LocalFleet("zones", nats_port=16222, port=18300, admin_base=19700, zones="netns",
                   partitions=2)
    f.start()
    yield f
    f.stop()


def test_cut_zone_keeps_tables_available_and_heal_catches_up(zoned_fleet):
    fleet = zoned_fleet
    # SDK-style retries, as users run: a write caught at a cut-off leader times out (500) and
    # is retried once the router has moved on to the new leader.
    ddb = fleet.client(attempts=4, read_timeout=15)
    tables = {name: create_table(ddb, name) for name in ("zones1", "zones2", "zones3")}
    keys = [f"k{i}" for i in range(30)]
    for name in tables:
        for k in keys:
            ddb.put_item(TableName=name, Item={"pk": {"S": k}, "v": {"S": "before"}})

    # Cut the zone whose node leads the most partitions (node N lives in zone a/b/c).
    led = {}
    for table_id in tables.values():
        for node in fleet.wait_leaders(table_id, 2).values():
            led[node] = led.get(node, 0) + 1
    victim = max(led, key=led.get)
    zone = "abc"[victim - 1]
    print(f"partitions led per node before the cut: {led}; cutting zone {zone}")
    fleet.run("cut-zone", zone)
    cut_at = time.monotonic()
    # Every table, every partition: strongly consistent reads see what was written before,
    # and new writes succeed, while zone b is unreachable.
    for name in tables:
        for k in keys:
            item = ddb.get_item(TableName=name, Key={"pk": {"S": k}},
                                ConsistentRead=True)["Item"]
            assert item["v"] == {"S": "before"}, (name, k, item)
            ddb.put_item(TableName=name, Item={"pk": {"S": k}, "v": {"S": "during"}})
    for name in tables:
        for k in keys:
            item = ddb.get_item(TableName=name, Key={"pk": {"S": k}},
                                ConsistentRead=True)["Item"]
            assert item["v"] == {"S": "during"}, (name, k, item)
    print(f"zone {zone} cut: {len(tables) * len(keys) * 3} operations done in "
          f"{time.monotonic() - cut_at:.1f}s")
    # Leaders now live in the other two zones only.
    for table_id in tables.values():
        leaders = fleet.wait_leaders(table_id, 2, exclude=(victim,))
        assert victim not in leaders.values(), leaders

    fleet.run("heal-zone", zone)
    for name, table_id in tables.items():
        state = fleet.wait_caught_up(table_id, timeout=30)
        # The cut zone's replicas hold every item again, written during the cut included.
        for pid, s in state[victim].items():
            assert s["items"] == state[1][pid]["items"] == state[3][pid]["items"], state
        assert sum(s["items"] for s in state[victim].values()) == len(keys), state
    for name in tables:
        for k in keys:
            ddb.put_item(TableName=name, Item={"pk": {"S": k}, "v": {"S": "after"}})
            item = ddb.get_item(TableName=name, Key={"pk": {"S": k}},
                                ConsistentRead=True)["Item"]
            assert item["v"] == {"S": "after"}
