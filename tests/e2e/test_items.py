"""PutItem, GetItem and DeleteItem through boto3, with every attribute type."""
import random
import re
import time
import urllib.request
from decimal import Context, Decimal

import pytest


def canon(value):
    """Makes an attribute value comparable: sets are unordered in DynamoDB."""
    (t, v), = value.items()
    if t in ("SS", "NS", "BS"):
        return {t: sorted(v)}
    if t == "M":
        return {"M": {k: canon(x) for k, x in v.items()}}
    if t == "L":
        return {"L": [canon(x) for x in v]}
    return {t: v}


def canon_item(item):
    return {k: canon(v) for k, v in item.items()}


def rich_item(i, rng):
    digits = "".join(rng.choice("0123456789") for _ in range(37))
    big = ("-" if i % 2 else "") + str(rng.randint(1, 9)) + digits  # 38 significant digits
    return {
        "pk": {"S": f"user#{i % 97}"},
        "sk": {"N": str(i)},
        "s": {"S": f"héllo wörld {i} ✓"},
        "empty": {"S": ""},
        "n38": {"N": big},
        "frac": {"N": f"0.{i:04d}1"},
        "tiny": {"N": "1E-130"},
        "huge": {"N": "9.9999999999999999999999999999999999999E+125"},
        "b": {"B": bytes([i % 256, 0, 255, (i * 7) % 256])},
        "t": {"BOOL": bool(i % 2)},
        "nothing": {"NULL": True},
        "ss": {"SS": [f"a{i}", f"b{i}", "c"]},
        "ns": {"NS": [str(i), "-1.5", "12345678901234567890123456789012345678"]},
        "bs": {"BS": [b"\x00\x01", bytes([i % 256 or 1])]},
        "m": {"M": {"nested": {"M": {"deep": {"L": [{"N": str(i)}, {"S": "x"}, {"NULL": True}]}}},
                    "flag": {"BOOL": True}}},
        "l": {"L": [{"S": "one"}, {"N": "2"}, {"M": {"three": {"SS": ["3"]}}}, {"L": []}, {"M": {}}]},
    }


def expected_number_text(n):
    """DynamoDB returns numbers normalized, in plain notation."""
    # Python's default context keeps 28 digits; DynamoDB keeps 38.
    d = Decimal(n).normalize(Context(prec=60))
    return format(d, "f")


def test_put_get_roundtrip_of_every_type_across_partitions(ddb, make_table, fleet_if_any):
    table = make_table(hash_key=("pk", "S"), range_key=("sk", "N"))
    rng = random.Random(1234)
    items = [rich_item(i, rng) for i in range(1000)]
    for item in items:
        ddb.put_item(TableName=table, Item=item)
    for item in items:
        got = ddb.get_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]},
                           ConsistentRead=True)["Item"]
        want = dict(item)
        # The only change DynamoDB makes: numbers come back normalized.
        want["huge"] = {"N": expected_number_text(item["huge"]["N"])}
        want["tiny"] = {"N": expected_number_text(item["tiny"]["N"])}
        assert canon_item(got) == canon_item(want)

    if fleet_if_any is None:
        return  # not a local Shoal fleet: placement cannot be observed
    # Where did the items land? Each storage node reports items per replica. Every partition
    # is a Raft group with one replica per zone, so each of the three nodes ends up holding
    # all 1,000 items (followers apply a moment after the leader acknowledged), spread over
    # at least two partitions, and the partitions' leaders report their items too.
    table_id = ddb.describe_table(TableName=table)["Table"]["TableId"]

    def placement():
        per_node, partitions, leaders = {}, set(), 0
        for n, metrics_url in enumerate(fleet_if_any.storage_metrics_urls(), start=1):
            text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
            for m in re.finditer(r'^shoal_storage_replica_(items|leader)\{([^}]*)\} (\S+)$', text, re.M):
                labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
                if labels.get("table_id") != table_id:
                    continue
                value = int(float(m.group(3)))
                if m.group(1) == "leader":
                    leaders += value
                elif value > 0:
                    per_node[n] = per_node.get(n, 0) + value
                    partitions.add(labels["partition"])
        return per_node, partitions, leaders

    deadline = time.monotonic() + 10
    while True:
        per_node, partitions, leaders = placement()
        if list(per_node.values()) == [1000, 1000, 1000] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert per_node == {1: 1000, 2: 1000, 3: 1000}, per_node
    assert len(partitions) >= 2, partitions
    assert leaders == len(partitions), (leaders, partitions)


def test_put_overwrites_and_delete_removes(ddb, make_table):
    table = make_table()
    key = {"pk": {"S": "k"}}
    ddb.put_item(TableName=table, Item={**key, "v": {"N": "1"}, "gone": {"S": "x"}})
    ddb.put_item(TableName=table, Item={**key, "v": {"N": "2"}})
    assert ddb.get_item(TableName=table, Key=key)["Item"] == {**key, "v": {"N": "2"}}
    ddb.delete_item(TableName=table, Key=key)
    assert "Item" not in ddb.get_item(TableName=table, Key=key)
    # Deleting what is not there is not an error.
    ddb.delete_item(TableName=table, Key=key)


def test_return_values_all_old(ddb, make_table):
    table = make_table()
    key = {"pk": {"S": "k"}}
    assert "Attributes" not in ddb.put_item(TableName=table, Item={**key, "v": {"S": "a"}},
                                            ReturnValues="ALL_OLD")
    old = ddb.put_item(TableName=table, Item={**key, "v": {"S": "b"}}, ReturnValues="ALL_OLD")
    assert old["Attributes"] == {**key, "v": {"S": "a"}}
    old = ddb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    assert old["Attributes"] == {**key, "v": {"S": "b"}}


def test_numbers_are_normalized_and_exact(ddb, make_table):
    table = make_table(hash_key=("pk", "N"))
    cases = {"1.50": "1.5", "-0": "0", "1E+2": "100", "0.000100": "0.0001",
             "12345678901234567890123456789012345678": "12345678901234567890123456789012345678",
             "-1.2345678901234567890123456789012345678E-100":
                 "-0." + "0" * 99 + "12345678901234567890123456789012345678"}
    for i, (given, want) in enumerate(cases.items()):
        ddb.put_item(TableName=table, Item={"pk": {"N": str(i)}, "v": {"N": given}})
        got = ddb.get_item(TableName=table, Key={"pk": {"N": str(i)}})["Item"]["v"]["N"]
        assert got == want, given
    # A number key is found under any spelling of the same value.
    ddb.put_item(TableName=table, Item={"pk": {"N": "10.0"}, "v": {"S": "ten"}})
    assert ddb.get_item(TableName=table, Key={"pk": {"N": "1E1"}})["Item"]["v"] == {"S": "ten"}


def test_projection_of_top_level_attributes(ddb, make_table):
    table = make_table()
    key = {"pk": {"S": "p"}}
    ddb.put_item(TableName=table, Item={**key, "a": {"S": "1"}, "b": {"S": "2"}, "c": {"S": "3"}})
    got = ddb.get_item(TableName=table, Key=key, ProjectionExpression="a, #c",
                       ExpressionAttributeNames={"#c": "c"})["Item"]
    assert got == {"a": {"S": "1"}, "c": {"S": "3"}}
    got = ddb.get_item(TableName=table, Key=key, AttributesToGet=["b"])["Item"]
    assert got == {"b": {"S": "2"}}


def test_boto3_resource_with_python_types(resource, make_table):
    table = resource.Table(make_table(hash_key=("id", "S"), range_key=("n", "N")))
    item = {"id": "x", "n": Decimal("3"), "price": Decimal("19.99"), "tags": {"a", "b"},
            "doc": {"list": [1, "two", None, True]}}
    table.put_item(Item=item)
    got = table.get_item(Key={"id": "x", "n": 3})["Item"]
    assert got["price"] == Decimal("19.99")
    assert got["tags"] == {"a", "b"}
    assert got["doc"] == {"list": [Decimal(1), "two", None, True]}
