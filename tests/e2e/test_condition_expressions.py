"""ConditionExpression on PutItem, DeleteItem and UpdateItem: every comparator on every type,
every function, AND/OR/NOT precedence, nested paths, ReturnValuesOnConditionCheckFailure.

The truth table re-puts one item with a condition: the write either succeeds (the condition
held; the item is unchanged because the same item is written back) or fails with
ConditionalCheckFailedException, so all cases share one module-scoped table."""
import pytest
from botocore.exceptions import ClientError

from conftest import unique_name, wait_active


@pytest.fixture(scope="module")
def table(ddb):
    name = unique_name("cond")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    wait_active(ddb, name)
    yield name
    ddb.delete_table(TableName=name)


ITEM = {
    "pk": {"S": "truth"},
    "s": {"S": "hello"},
    "e": {"S": ""},
    "n": {"N": "10"},
    "neg": {"N": "-2.5"},
    "b": {"B": b"\x01\x02\x03"},
    "hi": {"B": b"\xff"},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "l": {"L": [{"N": "1"}, {"S": "x"}, {"L": [{"N": "2"}]}]},
    "m": {"M": {"a": {"N": "1"}, "b": {"M": {"c": {"S": "d"}}}}},
}


def N(v):
    return {"N": str(v)}


def S(v):
    return {"S": v}


def B(v):
    return {"B": v}


def holds(ddb, table, cond, values=None, names=None):
    kwargs = {"ConditionExpression": cond}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    if names:
        kwargs["ExpressionAttributeNames"] = names
    try:
        ddb.put_item(TableName=table, Item=ITEM, **kwargs)
        return True
    except ClientError as e:
        err = e.response["Error"]
        if err["Code"] == "ConditionalCheckFailedException":
            assert err["Message"] == "The conditional request failed"
            return False
        raise


@pytest.fixture(scope="module")
def truth(ddb, table):
    ddb.put_item(TableName=table, Item=ITEM)
    return lambda cond, values=None, names=None: holds(ddb, table, cond, values, names)


COMPARISONS = [
    # numbers: compared by value, not by text
    ("n = :v", {":v": N(10)}, True),
    ("n = :v", {":v": N("10.000")}, True),
    ("n = :v", {":v": N(11)}, False),
    ("n <> :v", {":v": N(11)}, True),
    ("n <> :v", {":v": N(10)}, False),
    ("n < :v", {":v": N(11)}, True),
    ("n < :v", {":v": N(10)}, False),
    ("n <= :v", {":v": N(10)}, True),
    ("n <= :v", {":v": N(9)}, False),
    ("n > :v", {":v": N(9)}, True),
    ("n > :v", {":v": N(10)}, False),
    ("n >= :v", {":v": N(10)}, True),
    ("n >= :v", {":v": N(11)}, False),
    ("n > :v", {":v": N(9.99999)}, True),
    ("n > :v", {":v": N("1E1")}, False),
    ("neg < :v", {":v": N(-2)}, True),
    ("neg > :v", {":v": N(-3)}, True),
    ("n > :v", {":v": N(2)}, True),  # not "10" < "2" as text
    # strings: code-point order
    ("s = :v", {":v": S("hello")}, True),
    ("s <> :v", {":v": S("Hello")}, True),
    ("s < :v", {":v": S("help")}, True),
    ("s > :v", {":v": S("Hello")}, True),
    ("s <= :v", {":v": S("hell")}, False),
    ("s >= :v", {":v": S("hello")}, True),
    ("e = :v", {":v": S("a")}, False),
    ("e < :v", {":v": S("a")}, True),
    # binary: unsigned byte order
    ("b = :v", {":v": B(b"\x01\x02\x03")}, True),
    ("b < :v", {":v": B(b"\x01\x02\x04")}, True),
    ("b > :v", {":v": B(b"\x01\x02")}, True),
    ("hi > :v", {":v": B(b"\x01")}, True),
    ("hi < :v", {":v": B(b"\x7f")}, False),
    # comparisons between different types are false, <> is true
    ("n = :v", {":v": S("10")}, False),
    ("n <> :v", {":v": S("10")}, True),
    ("n < :v", {":v": S("99")}, False),
    ("n >= :v", {":v": S("1")}, False),
    ("s > :v", {":v": N(1)}, False),
    ("b < :v", {":v": S("z")}, False),
    # attributes that are missing
    ("nothere = :v", {":v": N(1)}, False),
    ("nothere < :v", {":v": N(1)}, False),
    ("nothere <> :v", {":v": N(1)}, True),
    # whole documents and sets
    ("ss = :v", {":v": {"SS": ["b", "a"]}}, True),
    ("ss = :v", {":v": {"SS": ["a"]}}, False),
    ("ns = :v", {":v": {"NS": ["2.0", "1"]}}, True),
    ("bs = :v", {":v": {"BS": [b"\x02", b"\x01"]}}, True),
    ("l = :v", {":v": ITEM["l"]}, True),
    ("l = :v", {":v": {"L": [{"N": "1"}, {"S": "x"}]}}, False),
    ("m = :v", {":v": ITEM["m"]}, True),
    ("t = :v", {":v": {"BOOL": True}}, True),
    ("t = :v", {":v": {"BOOL": False}}, False),
    ("z = :v", {":v": {"NULL": True}}, True),
    # two attributes of the item
    ("n > neg", None, True),
    ("s < n", None, False),
]


@pytest.mark.parametrize("cond,values,expected", COMPARISONS,
                         ids=[f"{c}|{list(v.values())[0] if v else ''}"
                              for c, v, _ in COMPARISONS])
def test_comparison(truth, cond, values, expected):
    assert truth(cond, values) is expected


PATHS = [
    ("m.a = :v", {":v": N(1)}, True),
    ("m.b.c = :v", {":v": S("d")}, True),
    ("m.b = :v", {":v": {"M": {"c": {"S": "d"}}}}, True),
    ("m.nope = :v", {":v": N(1)}, False),
    ("m.a.deeper = :v", {":v": N(1)}, False),
    ("l[0] = :v", {":v": N(1)}, True),
    ("l[1] = :v", {":v": S("x")}, True),
    ("l[2][0] = :v", {":v": N(2)}, True),
    ("l[3] = :v", {":v": N(1)}, False),
    ("s[0] = :v", {":v": S("h")}, False),
    ("m[0] = :v", {":v": N(1)}, False),
    ("l.a = :v", {":v": N(1)}, False),
]


@pytest.mark.parametrize("cond,values,expected", PATHS, ids=[c for c, _, _ in PATHS])
def test_document_path(truth, cond, values, expected):
    assert truth(cond, values) is expected


def test_names_substitute_reserved_words_and_dots(ddb, table):
    put = dict(TableName=table, Item={"pk": {"S": "names"}, "name": {"S": "x"},
                                      "a.b": {"N": "1"}, "a": {"M": {"b": {"N": "2"}}}})
    ddb.put_item(**put)
    # "#ab" is the top-level attribute whose name contains a dot; #a.#b is the nested path.
    ddb.put_item(ConditionExpression="#n = :x AND #ab = :one AND #a.#b = :two",
                 ExpressionAttributeNames={"#n": "name", "#ab": "a.b", "#a": "a", "#b": "b"},
                 ExpressionAttributeValues={":x": S("x"), ":one": N(1), ":two": N(2)}, **put)


BETWEEN_IN = [
    ("n BETWEEN :a AND :b", {":a": N(5), ":b": N(10)}, True),
    ("n BETWEEN :a AND :b", {":a": N(10), ":b": N(10)}, True),
    ("n BETWEEN :a AND :b", {":a": N(10.5), ":b": N(20)}, False),
    ("n BETWEEN :a AND :b", {":a": N(-5), ":b": N(9)}, False),
    ("s BETWEEN :a AND :b", {":a": S("a"), ":b": S("i")}, True),
    ("s BETWEEN :a AND :b", {":a": S("hello!"), ":b": S("z")}, False),
    ("b BETWEEN :a AND :b", {":a": B(b"\x01"), ":b": B(b"\x02")}, True),
    ("n BETWEEN :a AND :b", {":a": S("a"), ":b": S("z")}, False),
    ("nothere BETWEEN :a AND :b", {":a": N(1), ":b": N(2)}, False),
    ("n IN (:a)", {":a": N(10)}, True),
    ("n IN (:a, :b, :c)", {":a": N(1), ":b": N(2), ":c": N(10)}, True),
    ("n IN (:a, :b)", {":a": N(1), ":b": N(2)}, False),
    ("n IN (:a, :b)", {":a": S("10"), ":b": N(2)}, False),
    ("s IN (:a, :b)", {":a": S("x"), ":b": S("hello")}, True),
    ("ss IN (:a)", {":a": {"SS": ["a", "b"]}}, True),
    ("nothere IN (:a)", {":a": N(1)}, False),
    ("NOT n IN (:a)", {":a": N(1)}, True),
]


@pytest.mark.parametrize("cond,values,expected", BETWEEN_IN,
                         ids=[f"{c}|{list(v.values())}" for c, v, _ in BETWEEN_IN])
def test_between_and_in(truth, cond, values, expected):
    assert truth(cond, values) is expected


def test_in_accepts_100_operands(truth):
    values = {f":v{i}": N(100 + i) for i in range(99)}
    values[":ten"] = N(10)
    assert truth(f"n IN ({', '.join(values)})", values) is True


FUNCTIONS = [
    ("attribute_exists(s)", None, True),
    ("attribute_exists(nothere)", None, False),
    ("attribute_exists(z)", None, True),  # a NULL attribute exists
    ("attribute_exists(m.b.c)", None, True),
    ("attribute_exists(m.b.x)", None, False),
    ("attribute_exists(l[2])", None, True),
    ("attribute_exists(l[3])", None, False),
    ("attribute_not_exists(nothere)", None, True),
    ("attribute_not_exists(s)", None, False),
    ("attribute_not_exists(m.x)", None, True),
    ("attribute_type(s, :t)", {":t": S("S")}, True),
    ("attribute_type(n, :t)", {":t": S("N")}, True),
    ("attribute_type(b, :t)", {":t": S("B")}, True),
    ("attribute_type(t, :t)", {":t": S("BOOL")}, True),
    ("attribute_type(z, :t)", {":t": S("NULL")}, True),
    ("attribute_type(ss, :t)", {":t": S("SS")}, True),
    ("attribute_type(ns, :t)", {":t": S("NS")}, True),
    ("attribute_type(bs, :t)", {":t": S("BS")}, True),
    ("attribute_type(l, :t)", {":t": S("L")}, True),
    ("attribute_type(m, :t)", {":t": S("M")}, True),
    ("attribute_type(m.b, :t)", {":t": S("M")}, True),
    ("attribute_type(n, :t)", {":t": S("S")}, False),
    ("attribute_type(ss, :t)", {":t": S("L")}, False),
    ("attribute_type(nothere, :t)", {":t": S("S")}, False),
    ("begins_with(s, :p)", {":p": S("he")}, True),
    ("begins_with(s, :p)", {":p": S("hello")}, True),
    ("begins_with(s, :p)", {":p": S("hello!")}, False),
    ("begins_with(s, :p)", {":p": S("lo")}, False),
    ("begins_with(s, :p)", {":p": S("He")}, False),
    ("begins_with(b, :p)", {":p": B(b"\x01\x02")}, True),
    ("begins_with(b, :p)", {":p": B(b"\x02")}, False),
    ("begins_with(l[1], :p)", {":p": S("x")}, True),
    ("begins_with(n, :p)", {":p": S("1")}, False),
    ("begins_with(s, :p)", {":p": B(b"h")}, False),
    ("begins_with(nothere, :p)", {":p": S("a")}, False),
    ("contains(s, :v)", {":v": S("ell")}, True),
    ("contains(s, :v)", {":v": S("hello")}, True),
    ("contains(s, :v)", {":v": S("xyz")}, False),
    ("contains(b, :v)", {":v": B(b"\x02\x03")}, True),
    ("contains(ss, :v)", {":v": S("a")}, True),
    ("contains(ss, :v)", {":v": S("c")}, False),
    ("contains(ns, :v)", {":v": N("2.0")}, True),
    ("contains(ns, :v)", {":v": S("2")}, False),
    ("contains(bs, :v)", {":v": B(b"\x01")}, True),
    ("contains(l, :v)", {":v": S("x")}, True),
    ("contains(l, :v)", {":v": N(1)}, True),
    ("contains(l, :v)", {":v": S("1")}, False),
    ("contains(l, :v)", {":v": {"L": [{"N": "2"}]}}, True),
    ("contains(n, :v)", {":v": N(1)}, False),
    ("contains(m, :v)", {":v": S("a")}, False),
    ("contains(nothere, :v)", {":v": S("a")}, False),
    ("size(s) = :v", {":v": N(5)}, True),
    ("size(e) = :v", {":v": N(0)}, True),
    ("size(b) = :v", {":v": N(3)}, True),
    ("size(ss) = :v", {":v": N(2)}, True),
    ("size(ns) = :v", {":v": N(2)}, True),
    ("size(bs) = :v", {":v": N(2)}, True),
    ("size(l) = :v", {":v": N(3)}, True),
    ("size(l[2]) = :v", {":v": N(1)}, True),
    ("size(m) = :v", {":v": N(2)}, True),
    ("size(s) > :v", {":v": N(4)}, True),
    ("size(s) BETWEEN :a AND :b", {":a": N(1), ":b": N(5)}, True),
    ("size(s) IN (:a, :b)", {":a": N(1), ":b": N(5)}, True),
    ("size(s) = :v", {":v": S("5")}, False),
    ("size(n) >= :v", {":v": N(0)}, False),
    ("size(t) >= :v", {":v": N(0)}, False),
    ("size(nothere) >= :v", {":v": N(0)}, False),
    ("size(s) < size(l)", None, False),
    ("size(ss) < size(l)", None, True),
]


@pytest.mark.parametrize("cond,values,expected", FUNCTIONS,
                         ids=[f"{c}|{list(v.values())[0] if v else ''}"
                              for c, v, _ in FUNCTIONS])
def test_function(truth, cond, values, expected):
    assert truth(cond, values) is expected


V = {":ten": N(10), ":one": N(1), ":hello": S("hello"), ":bad": S("bad")}
LOGIC = [
    ("n = :ten AND s = :hello", True),
    ("n = :ten AND s = :bad", False),
    ("n = :one OR s = :hello", True),
    ("n = :one OR s = :bad", False),
    ("NOT n = :one", True),
    ("NOT n = :ten", False),
    ("NOT NOT n = :ten", True),
    ("NOT attribute_exists(nothere)", True),
    # precedence: NOT binds tighter than AND, AND tighter than OR
    ("n = :ten OR n = :one AND s = :bad", True),
    ("(n = :ten OR n = :one) AND s = :bad", False),
    ("n = :one AND s = :bad OR s = :hello", True),
    ("n = :one AND (s = :bad OR s = :hello)", False),
    ("NOT n = :one AND s = :hello", True),
    ("NOT (n = :ten AND s = :bad)", True),
    ("NOT n = :ten OR s = :hello", True),
    ("NOT (n = :ten OR s = :bad)", False),
    ("(n = :ten)", True),
    ("n = :ten and s = :hello or NOT s = :bad", True),  # keywords in any case
]


@pytest.mark.parametrize("cond,expected", LOGIC, ids=[c for c, _ in LOGIC])
def test_logical_operators(truth, cond, expected):
    used = {k: v for k, v in V.items() if k in cond}
    assert truth(cond, used) is expected


# --- each write operation, on present and absent items ----------------------------------

def item(ddb, table, pk):
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def failure(callable_, **kwargs):
    with pytest.raises(ClientError) as e:
        callable_(**kwargs)
    assert e.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert e.value.response["Error"]["Message"] == "The conditional request failed"
    return e.value.response


def test_put_if_absent(ddb, table):
    pk = unique_name("absent")
    ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "v": N(1)},
                 ConditionExpression="attribute_not_exists(pk)")
    failure(ddb.put_item, TableName=table, Item={"pk": {"S": pk}, "v": N(2)},
            ConditionExpression="attribute_not_exists(pk)")
    assert item(ddb, table, pk)["v"] == N(1)


@pytest.mark.parametrize("cond,values,expected", [
    ("attribute_exists(pk)", None, False),
    ("attribute_not_exists(v)", None, True),
    ("v = :v", {":v": N(1)}, False),
    ("v <> :v", {":v": N(1)}, True),
    ("NOT v = :v", {":v": N(1)}, True),
    ("size(v) < :v", {":v": N(1)}, False),
])
def test_condition_on_absent_item(ddb, table, cond, values, expected):
    pk = unique_name("gone")
    kwargs = {"ExpressionAttributeValues": values} if values else {}
    if expected:
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}}, ConditionExpression=cond, **kwargs)
        assert item(ddb, table, pk) == {"pk": {"S": pk}}
    else:
        failure(ddb.put_item, TableName=table, Item={"pk": {"S": pk}}, ConditionExpression=cond,
                **kwargs)
        assert item(ddb, table, pk) is None


def test_delete_with_condition(ddb, table):
    pk = unique_name("del")
    ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "v": N(1)})
    failure(ddb.delete_item, TableName=table, Key={"pk": {"S": pk}},
            ConditionExpression="v = :v", ExpressionAttributeValues={":v": N(2)})
    assert item(ddb, table, pk) is not None
    out = ddb.delete_item(TableName=table, Key={"pk": {"S": pk}}, ReturnValues="ALL_OLD",
                          ConditionExpression="v = :v", ExpressionAttributeValues={":v": N(1)})
    assert out["Attributes"] == {"pk": {"S": pk}, "v": N(1)}
    assert item(ddb, table, pk) is None
    # Deleting what is not there with attribute_exists fails; without a condition it is a no-op.
    failure(ddb.delete_item, TableName=table, Key={"pk": {"S": pk}},
            ConditionExpression="attribute_exists(pk)")


def test_update_condition_sees_the_old_item(ddb, table):
    pk = unique_name("upd")
    key = {"pk": {"S": pk}}
    ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "version": N(1)})
    ddb.update_item(TableName=table, Key=key, UpdateExpression="SET version = :new",
                    ConditionExpression="version = :old",
                    ExpressionAttributeValues={":old": N(1), ":new": N(2)})
    failure(ddb.update_item, TableName=table, Key=key, UpdateExpression="SET version = :new",
            ConditionExpression="version = :old",
            ExpressionAttributeValues={":old": N(1), ":new": N(3)})
    assert item(ddb, table, pk)["version"] == N(2)


def test_update_condition_on_absent_item_does_not_create_it(ddb, table):
    pk = unique_name("upd")
    failure(ddb.update_item, TableName=table, Key={"pk": {"S": pk}},
            UpdateExpression="SET v = :v", ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":v": N(1)})
    assert item(ddb, table, pk) is None


@pytest.mark.parametrize("op", ["put", "delete", "update"])
@pytest.mark.parametrize("mode", ["ALL_OLD", "NONE", None])
def test_return_values_on_condition_check_failure(ddb, table, op, mode):
    pk = unique_name("rv")
    old = {"pk": {"S": pk}, "v": N(1), "m": {"M": {"x": S("y")}}}
    ddb.put_item(TableName=table, Item=old)
    common = dict(TableName=table, ConditionExpression="v = :two",
                  ExpressionAttributeValues={":two": N(2)})
    if mode:
        common["ReturnValuesOnConditionCheckFailure"] = mode
    if op == "put":
        resp = failure(ddb.put_item, Item={"pk": {"S": pk}}, **common)
    elif op == "delete":
        resp = failure(ddb.delete_item, Key={"pk": {"S": pk}}, **common)
    else:
        resp = failure(ddb.update_item, Key={"pk": {"S": pk}}, UpdateExpression="REMOVE m",
                       **common)
    if mode == "ALL_OLD":
        assert resp["Item"] == old
    else:
        assert "Item" not in resp
    assert item(ddb, table, pk) == old


def test_return_values_on_condition_check_failure_absent_item(ddb, table):
    resp = failure(ddb.put_item, TableName=table, Item={"pk": {"S": unique_name("rv")}},
                   ConditionExpression="attribute_exists(pk)",
                   ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert "Item" not in resp


def test_consumed_capacity_reported_with_condition(ddb, table):
    pk = unique_name("cap")
    out = ddb.put_item(TableName=table, Item={"pk": {"S": pk}}, ReturnConsumedCapacity="TOTAL",
                       ConditionExpression="attribute_not_exists(pk)")
    assert out["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0}
