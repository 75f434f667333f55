"""Eventually consistent reads served by the replica in the router's zone
(`--zone zone-b --follower-reads`, here through SHOAL_ZONE / SHOAL_FOLLOWER_READS), while
strongly consistent reads still go to each partition's leader."""
import time

import pytest

from fleetctl import LocalFleet, create_table


@pytest.fixture(scope="module")
def fleet():
    f = LocalFleet("follower-reads", nats_port=16722, port=18800, admin_base=20100, partitions=2)
    f.env["SHOAL_ZONE"] = "zone-b"        # read by the router only (storage nodes get --zone)
    f.env["SHOAL_FOLLOWER_READS"] = "true"
    f.start()
    yield f
    f.stop()


def reads(fleet, table_id):
    return {n: sum(s.get("reads", 0) for s in parts.values())
            for n, parts in fleet.raft_state(table_id).items()}


def test_eventual_reads_prefer_the_routers_zone(fleet):
    ddb = fleet.client(attempts=3)
    table_id = create_table(ddb, "nearby")
    keys = [f"k{i}" for i in range(40)]
    for k in keys:
        ddb.put_item(TableName="nearby", Item={"pk": {"S": k}, "v": {"S": k}})
    leaders = fleet.wait_leaders(table_id, 2)
    fleet.wait_caught_up(table_id)

    before = reads(fleet, table_id)
    for k in keys:
        item = ddb.get_item(TableName="nearby", Key={"pk": {"S": k}})["Item"]
        assert item["v"] == {"S": k}
    after = reads(fleet, table_id)
    # Node 2 is zone b's: every eventually consistent read was served there, leader or not.
    assert after[2] - before[2] == len(keys), (before, after, leaders)
    assert after[1] == before[1] and after[3] == before[3], (before, after)

    before = after
    for k in keys:
        ddb.get_item(TableName="nearby", Key={"pk": {"S": k}}, ConsistentRead=True)
    after = reads(fleet, table_id)
    served = {n: after[n] - before[n] for n in after}
    # Strongly consistent reads: only by leaders, each partition's reads by its leader.
    assert sum(served.values()) == len(keys), served
    assert all(served[n] == 0 for n in served if n not in leaders.values()), (served, leaders)
