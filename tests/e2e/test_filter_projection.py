"""FilterExpression on Query and Scan (applied after Limit, counted in Count but not in
ScannedCount, never on key attributes in a Query) and ProjectionExpression with nested paths
on GetItem, BatchGetItem, Query and Scan."""
import pytest
from botocore.exceptions import ClientError

from conftest import unique_name, wait_active


def N(v):
    return {"N": str(v)}


def S(v):
    return {"S": v}


COLOURS = ["red", "blue", "green"]


def make_item(i):
    item = {"pk": S("p"), "sk": N(i), "v": N(i), "even": {"BOOL": i % 2 == 0},
            "tag": S(COLOURS[i % 3]),
            "m": {"M": {"x": N(i), "y": {"L": [N(i), S("s")]}}},
            "l": {"L": [N(i), {"M": {"a": N(i * 10)}}, {"L": [S("deep")]}]}}
    if i < 3:
        item["opt"] = S("here")
    return item


ITEMS = [make_item(i) for i in range(10)]


@pytest.fixture(scope="module")
def table(ddb):
    name = unique_name("filt")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}])
    wait_active(ddb, name)
    for item in ITEMS:
        ddb.put_item(TableName=name, Item=item)
    yield name
    ddb.delete_table(TableName=name)


def sks(resp):
    return [int(i["sk"]["N"]) for i in resp["Items"]]


FILTERS = [
    ("v >= :n", {":n": N(7)}, [7, 8, 9]),
    ("v < :n", {":n": N(0)}, []),
    ("even = :t", {":t": {"BOOL": True}}, [0, 2, 4, 6, 8]),
    ("attribute_exists(opt)", None, [0, 1, 2]),
    ("attribute_not_exists(opt)", None, [3, 4, 5, 6, 7, 8, 9]),
    ("tag IN (:a, :b)", {":a": S("red"), ":b": S("green")}, [0, 2, 3, 5, 6, 8, 9]),
    ("begins_with(tag, :p)", {":p": S("bl")}, [1, 4, 7]),
    ("contains(tag, :p)", {":p": S("e")}, list(range(10))),
    ("m.x BETWEEN :a AND :b", {":a": N(2), ":b": N(4)}, [2, 3, 4]),
    ("size(m.y) = :two", {":two": N(2)}, list(range(10))),
    ("l[1].a = :n", {":n": N(50)}, [5]),
    ("contains(l[2], :d)", {":d": S("deep")}, list(range(10))),
    ("NOT even = :t AND v > :n", {":t": {"BOOL": True}, ":n": N(4)}, [5, 7, 9]),
    ("v > :n OR tag = :r", {":n": N(7), ":r": S("blue")}, [1, 4, 7, 8, 9]),
    ("attribute_type(m.y, :t)", {":t": S("L")}, list(range(10))),
    ("v = m.x", None, list(range(10))),
    ("v <> m.x", None, []),
]


def kw(filt, values, names=None):
    out = {"FilterExpression": filt}
    if values:
        out["ExpressionAttributeValues"] = dict(values)
    if names:
        out["ExpressionAttributeNames"] = names
    return out


@pytest.mark.parametrize("filt,values,expected", FILTERS, ids=[f for f, _, _ in FILTERS])
def test_query_filter(ddb, table, filt, values, expected):
    args = kw(filt, values)
    args.setdefault("ExpressionAttributeValues", {})[":pk"] = S("p")
    resp = ddb.query(TableName=table, KeyConditionExpression="pk = :pk", **args)
    assert sks(resp) == expected
    assert resp["Count"] == len(expected) and resp["ScannedCount"] == 10


@pytest.mark.parametrize("filt,values,expected", FILTERS[:6], ids=[f for f, _, _ in FILTERS[:6]])
def test_scan_filter(ddb, table, filt, values, expected):
    resp = ddb.scan(TableName=table, **kw(filt, values))
    assert sorted(sks(resp)) == expected
    assert resp["Count"] == len(expected) and resp["ScannedCount"] == 10


def test_scan_filter_may_use_key_attributes(ddb, table):
    resp = ddb.scan(TableName=table, FilterExpression="pk = :p AND (sk < :a OR sk > :b)",
                    ExpressionAttributeValues={":p": S("p"), ":a": N(1), ":b": N(8)})
    assert sorted(sks(resp)) == [0, 9]


def test_limit_counts_items_before_the_filter(ddb, table):
    resp = ddb.query(TableName=table, KeyConditionExpression="pk = :pk", Limit=3,
                     FilterExpression="v >= :n",
                     ExpressionAttributeValues={":pk": S("p"), ":n": N(2)})
    assert sks(resp) == [2] and resp["Count"] == 1 and resp["ScannedCount"] == 3
    assert resp["LastEvaluatedKey"] == {"pk": S("p"), "sk": N(2)}


def test_page_with_no_match_still_has_last_evaluated_key(ddb, table):
    resp = ddb.query(TableName=table, KeyConditionExpression="pk = :pk", Limit=2,
                     FilterExpression="v > :n",
                     ExpressionAttributeValues={":pk": S("p"), ":n": N(100)})
    assert resp["Items"] == [] and resp["Count"] == 0 and resp["ScannedCount"] == 2
    assert resp["LastEvaluatedKey"] == {"pk": S("p"), "sk": N(1)}


@pytest.mark.parametrize("op", ["query", "scan"])
def test_paging_through_a_filter(ddb, table, op):
    seen, start = [], None
    while True:
        args = {"ExclusiveStartKey": start} if start else {}
        if op == "query":
            resp = ddb.query(TableName=table, KeyConditionExpression="pk = :pk", Limit=4,
                             FilterExpression="even = :t",
                             ExpressionAttributeValues={":pk": S("p"), ":t": {"BOOL": True}},
                             **args)
        else:
            resp = ddb.scan(TableName=table, Limit=4, FilterExpression="even = :t",
                            ExpressionAttributeValues={":t": {"BOOL": True}}, **args)
        seen += sks(resp)
        start = resp.get("LastEvaluatedKey")
        if not start:
            break
    assert sorted(seen) == [0, 2, 4, 6, 8]


@pytest.mark.parametrize("op", ["query", "scan"])
def test_select_count_with_filter(ddb, table, op):
    args = dict(TableName=table, Select="COUNT", FilterExpression="v < :n")
    if op == "query":
        resp = ddb.query(KeyConditionExpression="pk = :pk",
                         ExpressionAttributeValues={":pk": S("p"), ":n": N(4)}, **args)
    else:
        resp = ddb.scan(ExpressionAttributeValues={":n": N(4)}, **args)
    assert resp["Count"] == 4 and "Items" not in resp
    assert resp["ScannedCount"] == 10


@pytest.mark.parametrize("key", ["pk", "sk"])
def test_query_filter_on_key_attribute_is_rejected(ddb, table, key):
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=table, KeyConditionExpression="pk = :pk",
                  FilterExpression=f"attribute_exists({key})",
                  ExpressionAttributeValues={":pk": S("p")})
    assert e.value.response["Error"]["Message"] == (
        f"Filter Expression can only contain non-primary key attributes: Primary key "
        f"attribute: {key}")


def test_filter_with_names(ddb, table):
    resp = ddb.query(TableName=table, KeyConditionExpression="#p = :pk",
                     **kw("#m.#x > :n AND #t = :r", {":pk": S("p"), ":n": N(2), ":r": S("red")},
                          {"#p": "pk", "#m": "m", "#x": "x", "#t": "tag"}))
    assert sks(resp) == [3, 6, 9]


def test_filter_reads_attributes_that_are_not_projected(ddb, table):
    resp = ddb.query(TableName=table, KeyConditionExpression="pk = :pk",
                     FilterExpression="v > :n", ProjectionExpression="tag",
                     ExpressionAttributeValues={":pk": S("p"), ":n": N(7)})
    assert resp["Items"] == [{"tag": S("green")}, {"tag": S("red")}]


# --- ProjectionExpression ----------------------------------------------------------------

KEY5 = {"pk": S("p"), "sk": N(5)}
PROJECTIONS = [
    ("v", {"v": N(5)}),
    ("v, tag", {"v": N(5), "tag": S("green")}),
    ("pk", {"pk": S("p")}),
    ("m.x", {"m": {"M": {"x": N(5)}}}),
    ("m.y[1]", {"m": {"M": {"y": {"L": [S("s")]}}}}),
    ("m.x, m.y[0]", {"m": {"M": {"x": N(5), "y": {"L": [N(5)]}}}}),
    ("l[1].a", {"l": {"L": [{"M": {"a": N(50)}}]}}),
    ("l[2][0]", {"l": {"L": [{"L": [S("deep")]}]}}),
    ("l[0], l[2]", {"l": {"L": [N(5), {"L": [S("deep")]}]}}),
    ("l[2], l[0]", {"l": {"L": [N(5), {"L": [S("deep")]}]}}),
    ("l[1].a, l[0]", {"l": {"L": [N(5), {"M": {"a": N(50)}}]}}),
    ("l[7], v", {"v": N(5)}),
    ("m.nothere, v", {"v": N(5)}),
    ("nothere", {}),
    ("l[9]", {}),
    ("v[0], m.x.y", {}),
]


@pytest.mark.parametrize("proj,expected", PROJECTIONS, ids=[p for p, _ in PROJECTIONS])
def test_get_item_projection(ddb, table, proj, expected):
    resp = ddb.get_item(TableName=table, Key=KEY5, ProjectionExpression=proj)
    assert resp["Item"] == expected


def test_projection_with_names(ddb, table):
    resp = ddb.get_item(TableName=table, Key=KEY5, ProjectionExpression="#m.#y[0], #l[1].#a",
                        ExpressionAttributeNames={"#m": "m", "#y": "y", "#l": "l", "#a": "a"})
    assert resp["Item"] == {"m": {"M": {"y": {"L": [N(5)]}}},
                            "l": {"L": [{"M": {"a": N(50)}}]}}


def test_projection_of_name_with_a_dot(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": S("dots"), "sk": N(0), "a.b": N(1),
                                        "a": {"M": {"b": N(2)}}})
    key = {"pk": S("dots"), "sk": N(0)}
    got = ddb.get_item(TableName=table, Key=key, ProjectionExpression="#ab",
                       ExpressionAttributeNames={"#ab": "a.b"})["Item"]
    assert got == {"a.b": N(1)}
    got = ddb.get_item(TableName=table, Key=key, ProjectionExpression="a.b")["Item"]
    assert got == {"a": {"M": {"b": N(2)}}}


@pytest.mark.parametrize("op", ["query", "scan"])
def test_query_and_scan_projection(ddb, table, op):
    if op == "query":
        resp = ddb.query(TableName=table, KeyConditionExpression="pk = :pk AND sk < :n",
                         ExpressionAttributeValues={":pk": S("p"), ":n": N(2)},
                         ProjectionExpression="sk, m.y[1], l[1].a")
    else:
        resp = ddb.scan(TableName=table, ProjectionExpression="sk, m.y[1], l[1].a",
                        FilterExpression="sk < :n AND pk = :pk",
                        ExpressionAttributeValues={":pk": S("p"), ":n": N(2)})
    assert sorted(resp["Items"], key=lambda i: i["sk"]["N"]) == [
        {"sk": N(i), "m": {"M": {"y": {"L": [S("s")]}}}, "l": {"L": [{"M": {"a": N(i * 10)}}]}}
        for i in range(2)]


def test_query_projection_of_absent_attribute_gives_empty_items(ddb, table):
    resp = ddb.query(TableName=table, KeyConditionExpression="pk = :pk AND sk > :n",
                     ExpressionAttributeValues={":pk": S("p"), ":n": N(7)},
                     ProjectionExpression="nothere")
    assert resp["Items"] == [{}, {}] and resp["Count"] == 2


def test_select_specific_attributes_with_projection(ddb, table):
    resp = ddb.query(TableName=table, KeyConditionExpression="pk = :pk AND sk = :n",
                     ExpressionAttributeValues={":pk": S("p"), ":n": N(1)},
                     Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="tag")
    assert resp["Items"] == [{"tag": S("blue")}]


def test_batch_get_projection(ddb, table):
    resp = ddb.batch_get_item(RequestItems={table: {
        "Keys": [KEY5, {"pk": S("p"), "sk": N(1)}], "ProjectionExpression": "sk, #t, m.x",
        "ExpressionAttributeNames": {"#t": "tag"}}})
    got = sorted(resp["Responses"][table], key=lambda i: i["sk"]["N"])
    assert got == [{"sk": N(1), "tag": S("blue"), "m": {"M": {"x": N(1)}}},
                   {"sk": N(5), "tag": S("green"), "m": {"M": {"x": N(5)}}}]


@pytest.mark.parametrize("select,what", [("COUNT", "only the Count"),
                                         ("ALL_ATTRIBUTES", "ALL_ATTRIBUTES")])
def test_select_conflicting_with_projection(ddb, table, select, what):
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=table, KeyConditionExpression="pk = :pk",
                  ExpressionAttributeValues={":pk": S("p")}, Select=select,
                  ProjectionExpression="tag")
    assert e.value.response["Error"]["Message"] == (
        f"Cannot specify the ProjectionExpression when choosing to get {what}")


def test_select_specific_attributes_without_projection(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table, Select="SPECIFIC_ATTRIBUTES")
    assert e.value.response["Error"]["Message"] == (
        "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
        "SPECIFIC_ATTRIBUTES")
