"""Bad input gets DynamoDB's own error type and message (one test per case)."""
import http.client
import json
import urllib.parse

import pytest
from botocore.exceptions import ClientError


def raw_post(url, body, target="DynamoDB_20120810.ListTables", auth=True):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target:
        headers["X-Amz-Target"] = target
    if auth:
        headers["Authorization"] = ("AWS4-HMAC-SHA256 Credential=shoal/20260101/us-east-1/"
                                    "dynamodb/aws4_request, SignedHeaders=host, Signature=00")
    conn.request("POST", "/", body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), json.loads(data)


def error_of(callable_, **kwargs):
    with pytest.raises(ClientError) as e:
        callable_(**kwargs)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_unknown_target_is_unknown_operation(url):
    status, _, body = raw_post(url, "{}", target="DynamoDB_20120810.NoSuchThing")
    assert status == 400
    assert body["__type"].endswith("#UnknownOperationException")


def test_body_that_is_not_json_is_serialization_exception(url):
    status, headers, body = raw_post(url, "{not json")
    assert status == 400
    assert body["__type"].endswith("#SerializationException")
    assert "x-amzn-RequestId" in headers and "x-amz-crc32" in headers


def test_missing_authorization_is_missing_authentication_token(url):
    status, _, body = raw_post(url, "{}", auth=False)
    assert status == 400
    assert body["__type"].endswith("#MissingAuthenticationTokenException")
    assert body["message"] == "Request is missing Authentication Token"


def test_get_from_missing_table_is_resource_not_found(ddb):
    code, msg = error_of(ddb.get_item, TableName="no-such-table-xyz", Key={"pk": {"S": "a"}})
    assert (code, msg) == ("ResourceNotFoundException", "Requested resource not found")


def test_put_into_missing_table_is_resource_not_found(ddb):
    code, msg = error_of(ddb.put_item, TableName="no-such-table-xyz", Item={"pk": {"S": "a"}})
    assert (code, msg) == ("ResourceNotFoundException", "Requested resource not found")


def test_create_existing_table_is_resource_in_use(ddb, make_table):
    name = make_table()
    code, msg = error_of(ddb.create_table, TableName=name,
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         BillingMode="PAY_PER_REQUEST")
    assert code == "ResourceInUseException"
    assert msg == f"Table already exists: {name}"


def test_item_over_400kb_is_rejected(ddb, make_table):
    table = make_table()
    code, msg = error_of(ddb.put_item, TableName=table,
                         Item={"pk": {"S": "big"}, "blob": {"S": "x" * (400 * 1024)}})
    assert (code, msg) == ("ValidationException", "Item size has exceeded the maximum allowed size")


def test_item_just_under_400kb_is_accepted(ddb, make_table):
    table = make_table()
    # name "pk" (2) + "big" (3) + "blob" (4) + value: exactly 400 KB in all.
    item = {"pk": {"S": "big"}, "blob": {"S": "x" * (400 * 1024 - 2 - 3 - 4)}}
    ddb.put_item(TableName=table, Item=item)
    assert len(ddb.get_item(TableName=table, Key={"pk": {"S": "big"}})["Item"]["blob"]["S"]) == \
        400 * 1024 - 9


def test_put_missing_key_attribute(ddb, make_table):
    table = make_table(range_key=("sk", "S"))
    code, msg = error_of(ddb.put_item, TableName=table, Item={"pk": {"S": "a"}})
    assert (code, msg) == ("ValidationException",
                           "One or more parameter values were invalid: Missing the key sk in the item")


def test_put_wrongly_typed_key_attribute(ddb, make_table):
    table = make_table()
    code, msg = error_of(ddb.put_item, TableName=table, Item={"pk": {"N": "1"}})
    assert (code, msg) == ("ValidationException",
                           "One or more parameter values were invalid: Type mismatch for key pk "
                           "expected: S actual: N")


def test_get_with_wrong_key_is_schema_mismatch(ddb, make_table):
    table = make_table()
    for key in ({"pk": {"N": "1"}}, {"other": {"S": "a"}}, {"pk": {"S": "a"}, "x": {"S": "b"}}):
        code, msg = error_of(ddb.get_item, TableName=table, Key=key)
        assert (code, msg) == ("ValidationException",
                               "The provided key element does not match the schema")


def test_empty_string_in_key_is_rejected(ddb, make_table):
    table = make_table()
    code, msg = error_of(ddb.put_item, TableName=table, Item={"pk": {"S": ""}})
    assert code == "ValidationException"
    assert msg == ("One or more parameter values are not valid. The AttributeValue for a key "
                   "attribute cannot contain an empty string value. Key: pk")


def test_empty_set_is_rejected(ddb, make_table):
    table = make_table()
    code, msg = error_of(ddb.put_item, TableName=table,
                         Item={"pk": {"S": "a"}, "tags": {"SS": []}})
    assert (code, msg) == ("ValidationException",
                           "One or more parameter values were invalid: An string set  may not be empty")


def test_number_out_of_range_is_rejected(ddb, make_table):
    table = make_table()
    code, msg = error_of(ddb.put_item, TableName=table,
                         Item={"pk": {"S": "a"}, "n": {"N": "1E+126"}})
    assert code == "ValidationException"
    assert msg == ("Number overflow. Attempting to store a number with magnitude larger than "
                   "supported range")


def test_missing_table_name_is_a_constraint_error(url):
    status, _, body = raw_post(url, json.dumps({"Key": {"pk": {"S": "a"}}}),
                               target="DynamoDB_20120810.GetItem")
    assert status == 400
    assert body["__type"].endswith("#ValidationException")
    assert body["message"] == ("1 validation error detected: Value null at 'tableName' failed "
                               "to satisfy constraint: Member must not be null")
