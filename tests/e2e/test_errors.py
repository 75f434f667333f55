"""Bad input gets DynamoDB's own error type and message (one test per case)."""
import http.client
import json
import urllib.parse

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import unique_name


def raw_post(url, body, target="DynamoDB_20120810.ListTables", auth=True):
    """POSTs `body` as is (even if it is not JSON), signed with SigV4 unless auth=False."""
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target:
        headers["X-Amz-Target"] = target
    if auth:
        request = AWSRequest(method="POST", url=url.rstrip("/") + "/", data=body.encode(),
                             headers=headers)
        SigV4Auth(Credentials("shoal", "shoal-secret"), "dynamodb", "us-east-1").add_auth(request)
        headers = dict(request.headers.items())
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


@pytest.mark.xfail_ddblocal(reason='answers 500 #InternalFailure, not 400 #SerializationException')
def test_body_that_is_not_json_is_serialization_exception(url):
    status, headers, body = raw_post(url, "{not json")
    assert status == 400
    assert body["__type"].endswith("#SerializationException")
    assert "x-amzn-RequestId" in headers and "x-amz-crc32" in headers


@pytest.mark.xfail_ddblocal(reason=(
    "answers #MissingAuthenticationToken 'Request must contain either a valid (registered) "
    "AWS access key ID or X.509 certificate.'"))
def test_missing_authorization_is_missing_authentication_token(url):
    status, _, body = raw_post(url, "{}", auth=False)
    assert status == 400
    assert body["__type"].endswith("#MissingAuthenticationTokenException")
    assert body["message"] == "Request is missing Authentication Token"


@pytest.mark.xfail_ddblocal(reason="says 'Cannot do operations on a non-existent table'")
def test_get_from_missing_table_is_resource_not_found(ddb):
    code, msg = error_of(ddb.get_item, TableName="no-such-table-xyz", Key={"pk": {"S": "a"}})
    assert (code, msg) == ("ResourceNotFoundException", "Requested resource not found")


@pytest.mark.xfail_ddblocal(reason="says 'Cannot do operations on a non-existent table'")
def test_put_into_missing_table_is_resource_not_found(ddb):
    code, msg = error_of(ddb.put_item, TableName="no-such-table-xyz", Item={"pk": {"S": "a"}})
    assert (code, msg) == ("ResourceNotFoundException", "Requested resource not found")


@pytest.mark.xfail_ddblocal(reason="says 'Cannot create preexisting table'")
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


@pytest.mark.xfail_ddblocal(reason="says 'One of the required keys was not given a value'")
def test_put_missing_key_attribute(ddb, make_table):
    table = make_table(range_key=("sk", "S"))
    code, msg = error_of(ddb.put_item, TableName=table, Item={"pk": {"S": "a"}})
    assert (code, msg) == ("ValidationException",
                           "One or more parameter values were invalid: Missing the key sk in the item")


@pytest.mark.xfail_ddblocal(reason=(
    "says 'One or more parameter values were invalid: Type mismatch for key' (no "
    'name/types)'))
def test_put_wrongly_typed_key_attribute(ddb, make_table):
    table = make_table()
    code, msg = error_of(ddb.put_item, TableName=table, Item={"pk": {"N": "1"}})
    assert (code, msg) == ("ValidationException",
                           "One or more parameter values were invalid: Type mismatch for key pk "
                           "expected: S actual: N")


@pytest.mark.parametrize("key", [
    pytest.param({"pk": {"N": "1"}}, id="wrong-type", marks=pytest.mark.xfail_ddblocal(
        reason="says 'One or more parameter values were invalid: Type mismatch for key'")),
    pytest.param({"other": {"S": "a"}}, id="other-attribute", marks=pytest.mark.xfail_ddblocal(
        reason="says 'One of the required keys was not given a value'")),
    pytest.param({"pk": {"S": "a"}, "x": {"S": "b"}}, id="extra-attribute",
                 marks=pytest.mark.xfail_ddblocal(
                     reason="says 'The number of conditions on the keys is invalid'")),
])
def test_get_with_wrong_key_is_schema_mismatch(ddb, make_table, key):
    table = make_table()
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


@pytest.mark.xfail_ddblocal(reason=(
    "says 'Value null at ...' without the '1 validation error detected: ' prefix, in "
    "'Message' rather than 'message'"))
def test_missing_table_name_is_a_constraint_error(url):
    status, _, body = raw_post(url, json.dumps({"Key": {"pk": {"S": "a"}}}),
                               target="DynamoDB_20120810.GetItem")
    assert status == 400
    assert body["__type"].endswith("#ValidationException")
    assert body.get("message") == ("1 validation error detected: Value null at 'tableName' "
                                   "failed to satisfy constraint: Member must not be null")


def test_number_underflow_is_rejected(ddb, make_table):
    table = make_table()
    code, msg = error_of(ddb.put_item, TableName=table,
                         Item={"pk": {"S": "a"}, "n": {"N": "1E-131"}})
    assert (code, msg) == ("ValidationException",
                           "Number underflow. Attempting to store a number with magnitude smaller "
                           "than supported range")


@pytest.mark.xfail_ddblocal(reason="says 'DynamoDB only supports precision up to 38 digits'")
def test_number_with_39_significant_digits_is_rejected(ddb, make_table):
    table = make_table()
    code, msg = error_of(ddb.put_item, TableName=table,
                         Item={"pk": {"S": "a"}, "n": {"N": "1" * 39}})
    assert (code, msg) == ("ValidationException",
                           "Attempting to store more than 38 significant digits in a Number")


@pytest.mark.xfail_ddblocal(reason="says 'Invalid table/index name.  Table/index names must be "
                                   "between 3 and 255 characters long, ...'")
def test_too_short_table_name_is_a_constraint_error(ddb):
    code, msg = error_of(ddb.get_item, TableName="ab", Key={"pk": {"S": "a"}})
    assert (code, msg) == ("ValidationException",
                           "1 validation error detected: Value 'ab' at 'tableName' failed to "
                           "satisfy constraint: Member must have length greater than or equal to 3")


@pytest.mark.parametrize("limit,constraint", [
    pytest.param(0, "greater than or equal to 1", id="0", marks=pytest.mark.xfail_ddblocal(
        reason="says 'Limit must be greater than or equal to 1'")),
    pytest.param(101, "less than or equal to 100", id="101", marks=pytest.mark.xfail_ddblocal(
        reason="says 'Limit in ListTables must be <= 100'")),
])
def test_list_tables_limit_out_of_range(session_kwargs, limit, constraint):
    # boto3 would refuse Limit=0 itself; let the server answer.
    raw = boto3.client("dynamodb", config=Config(parameter_validation=False,
                                                 retries={"max_attempts": 1}), **session_kwargs)
    code, msg = error_of(raw.list_tables, Limit=limit)
    assert (code, msg) == ("ValidationException",
                           f"1 validation error detected: Value '{limit}' at 'limit' failed to "
                           f"satisfy constraint: Member must have value {constraint}")


def create_table_error(ddb, attrs, schema, **kw):
    return error_of(ddb.create_table, TableName=unique_name(), AttributeDefinitions=attrs,
                    KeySchema=schema, **kw)


@pytest.mark.xfail_ddblocal(reason="says 'The number of attributes in key schema must match the "
                                   "number of attributes defined in attribute definitions.'")
def test_create_table_with_unused_attribute_definition(ddb):
    code, msg = create_table_error(
        ddb, [{"AttributeName": "pk", "AttributeType": "S"},
              {"AttributeName": "extra", "AttributeType": "S"}],
        [{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    assert (code, msg) == ("ValidationException",
                           "One or more parameter values were invalid: Number of attributes in "
                           "KeySchema does not exactly match number of attributes defined in "
                           "AttributeDefinitions")


@pytest.mark.xfail_ddblocal(reason="says 'No provisioned throughput specified for the table'")
def test_create_table_provisioned_needs_throughput(ddb):
    code, msg = create_table_error(
        ddb, [{"AttributeName": "pk", "AttributeType": "S"}],
        [{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PROVISIONED")
    assert (code, msg) == ("ValidationException",
                           "One or more parameter values were invalid: ReadCapacityUnits and "
                           "WriteCapacityUnits must both be specified when BillingMode is "
                           "PROVISIONED")


@pytest.mark.xfail_ddblocal(reason="accepts it and creates the table")
def test_create_table_pay_per_request_refuses_throughput(ddb):
    code, msg = create_table_error(
        ddb, [{"AttributeName": "pk", "AttributeType": "S"}],
        [{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    assert (code, msg) == ("ValidationException",
                           "One or more parameter values were invalid: Neither ReadCapacityUnits "
                           "nor WriteCapacityUnits can be specified when BillingMode is "
                           "PAY_PER_REQUEST")
