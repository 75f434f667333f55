"""ReturnConsumedCapacity: DynamoDB's unit arithmetic (4 KB reads, 1 KB writes, eventual
reads at half, Query/Scan rounding the total)."""
import pytest


def put(ddb, table, pk, size, **kw):
    return ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "v": {"S": "x" * size}}, **kw)


def test_put_units_round_up_per_kilobyte(ddb, make_table):
    t = make_table()
    small = put(ddb, t, "a", 10, ReturnConsumedCapacity="TOTAL")
    assert small["ConsumedCapacity"] == {"TableName": t, "CapacityUnits": 1.0}
    big = put(ddb, t, "b", 2500, ReturnConsumedCapacity="TOTAL")  # ~2.5 KB -> 3
    assert big["ConsumedCapacity"]["CapacityUnits"] == 3.0
    # Overwriting a big item with a small one costs the larger of the two.
    over = put(ddb, t, "b", 10, ReturnConsumedCapacity="TOTAL")
    assert over["ConsumedCapacity"]["CapacityUnits"] == 3.0


def test_indexes_mode_reports_table_units(ddb, make_table):
    t = make_table()
    r = put(ddb, t, "a", 10, ReturnConsumedCapacity="INDEXES")
    assert r["ConsumedCapacity"] == {"TableName": t, "CapacityUnits": 1.0,
                                     "Table": {"CapacityUnits": 1.0}}


def test_get_units_strong_and_eventual(ddb, make_table):
    t = make_table()
    put(ddb, t, "a", 5000)  # ~5 KB -> 2 read units
    strong = ddb.get_item(TableName=t, Key={"pk": {"S": "a"}}, ConsistentRead=True,
                          ReturnConsumedCapacity="TOTAL")
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 2.0
    eventual = ddb.get_item(TableName=t, Key={"pk": {"S": "a"}},
                            ReturnConsumedCapacity="TOTAL")
    assert eventual["ConsumedCapacity"]["CapacityUnits"] == 1.0
    missing = ddb.get_item(TableName=t, Key={"pk": {"S": "zz"}}, ReturnConsumedCapacity="TOTAL")
    assert missing["ConsumedCapacity"]["CapacityUnits"] == 0.5
    assert "Item" not in missing


def test_delete_units(ddb, make_table):
    t = make_table()
    put(ddb, t, "a", 1500)
    r = ddb.delete_item(TableName=t, Key={"pk": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 2.0


def test_scan_rounds_the_total_not_each_item(ddb, make_table):
    t = make_table()
    for i in range(10):
        put(ddb, t, f"k{i}", 100)  # ten ~100-byte items: ~1 KB in all -> 1 unit strong
    r = ddb.scan(TableName=t, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 1.0
    r = ddb.scan(TableName=t, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 0.5


def test_no_consumed_capacity_unless_asked(ddb, make_table):
    t = make_table()
    assert "ConsumedCapacity" not in put(ddb, t, "a", 10)
    assert "ConsumedCapacity" not in put(ddb, t, "a", 10, ReturnConsumedCapacity="NONE")


def test_batch_write_and_get_report_units_per_table(ddb, make_table):
    a, b = make_table(), make_table()
    r = ddb.batch_write_item(ReturnConsumedCapacity="TOTAL", RequestItems={
        a: [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "v": {"S": "x" * 1500}}}}
            for i in range(3)],  # 2 units each
        b: [{"PutRequest": {"Item": {"pk": {"S": "k"}}}}]})
    units = {c["TableName"]: c["CapacityUnits"] for c in r["ConsumedCapacity"]}
    assert units == {a: 6.0, b: 1.0}
    r = ddb.batch_get_item(ReturnConsumedCapacity="TOTAL", RequestItems={
        a: {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(3)], "ConsistentRead": True},
        b: {"Keys": [{"pk": {"S": "k"}}]}})
    units = {c["TableName"]: c["CapacityUnits"] for c in r["ConsumedCapacity"]}
    assert units == {a: 3.0, b: 0.5}
