"""A storage node gone for longer than metadata's --replace-after: each partition it held
gets a new member on a live node in the same zone (learner, caught up, promoted), the dead
member is removed, and the groups keep a quorum when yet another original node dies. If the
dead node comes back, it drops the replicas that are no longer its own."""
import time

import pytest

from fleetctl import LocalFleet, create_table


@pytest.fixture(scope="module")
def fleet():
    f = LocalFleet("replace", nats_port=16422, port=18500, admin_base=19600, partitions=2)
    f.env["SHOAL_REPLACE_AFTER_MS"] = "3000"
    f.start()
    yield f
    f.stop()


def replicas_on(fleet, node, table_id):
    return {pid: s for pid, s in fleet.raft_state(table_id).get(node, {}).items()}


def test_dead_node_is_replaced_in_its_zone(fleet):
    ddb = fleet.client(attempts=4)
    table_id = create_table(ddb, "replace")
    keys = [f"k{i}" for i in range(60)]
    for k in keys:
        ddb.put_item(TableName="replace", Item={"pk": {"S": k}, "v": {"S": "one"}})
    fleet.start_extra_node(4)  # zone a, like node 1
    fleet.run("kill-node", "1")

    # Within replace-after (3 s) + node timeout (5 s) + catch-up, node 4 holds a replica of
    # every partition, with every item.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        on4 = replicas_on(fleet, 4, table_id)
        if len(on4) == 2 and sum(s.get("items", 0) for s in on4.values()) == len(keys):
            break
        ddb.put_item(TableName="replace", Item={"pk": {"S": "during"}, "v": {"S": "x"}})
        time.sleep(0.5)
    on4 = replicas_on(fleet, 4, table_id)
    assert len(on4) == 2, fleet.raft_state(table_id)
    assert sum(s["items"] for s in on4.values()) == len(keys) + 1, on4

    # Node 4 is a voter now: with node 2 gone too, nodes 3 and 4 are a majority of every
    # group, and the table stays readable and writable.
    fleet.run("kill-node", "2")
    for k in keys:
        ddb.put_item(TableName="replace", Item={"pk": {"S": k}, "v": {"S": "two"}})
    for k in keys:
        item = ddb.get_item(TableName="replace", Key={"pk": {"S": k}}, ConsistentRead=True)["Item"]
        assert item["v"] == {"S": "two"}
    leaders = fleet.wait_leaders(table_id, 2, exclude=(1, 2))
    assert set(leaders.values()) <= {3, 4}, leaders

    # Node 1 returns: its replicas belong to no group any more and are dropped.
    fleet.run("start-node", "1")
    fleet.run("start-node", "2")
    deadline = time.monotonic() + 30
    while replicas_on(fleet, 1, table_id) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert replicas_on(fleet, 1, table_id) == {}, fleet.raft_state(table_id)
    fleet.wait_caught_up(table_id)
