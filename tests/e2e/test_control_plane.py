"""Control plane beyond the table lifecycle: UpdateTable, deletion protection, tags,
DescribeLimits and DescribeEndpoints. Error messages are compared in full: they are AWS's
(recorded from DynamoDB and from dynalite's tests, which record AWS's answers)."""
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import unique_name, wait_active

KEY = {"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
       "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


@pytest.fixture
def provisioned(ddb):
    """A PROVISIONED 5/5 table, deleted afterwards (deletion protection switched off first)."""
    created = []

    def make(rcu=5, wcu=5, **extra):
        name = unique_name()
        ddb.create_table(TableName=name, ProvisionedThroughput={
            "ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}, **KEY, **extra)
        created.append(name)
        return wait_active(ddb, name)

    yield make
    for name in created:
        try:
            if ddb.describe_table(TableName=name)["Table"].get("DeletionProtectionEnabled"):
                ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
                wait_active(ddb, name)
            ddb.delete_table(TableName=name)
        except (ddb.exceptions.ResourceNotFoundException, ddb.exceptions.ResourceInUseException):
            pass  # deleted by the test


@pytest.fixture(scope="module")
def raw(session_kwargs):
    """A client without botocore's parameter checks, to reach the server's validation."""
    return boto3.client("dynamodb", config=Config(parameter_validation=False,
                                                  retries={"max_attempts": 1}), **session_kwargs)


def wait_updated(ddb, name):
    ddb.get_waiter("table_exists").wait(TableName=name,
                                        WaiterConfig={"Delay": 0.2, "MaxAttempts": 300})
    for _ in range(300):
        desc = ddb.describe_table(TableName=name)["Table"]
        if desc["TableStatus"] == "ACTIVE":
            return desc
        time.sleep(0.2)
    raise AssertionError(f"{name} did not become ACTIVE")


# ---- UpdateTable: throughput -------------------------------------------------------------


@pytest.mark.xfail_ddblocal(reason="UpdateTable answers ACTIVE, not UPDATING")
def test_update_throughput_increase_and_decrease(ddb, provisioned):
    name = provisioned()["TableName"]
    before = time.time()
    out = ddb.update_table(TableName=name, ProvisionedThroughput={
        "ReadCapacityUnits": 10, "WriteCapacityUnits": 5})["TableDescription"]
    assert out["TableStatus"] == "UPDATING"
    desc = wait_updated(ddb, name)
    pt = desc["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (10, 5)
    assert pt["NumberOfDecreasesToday"] == 0
    assert pt["LastIncreaseDateTime"].timestamp() >= before - 5
    assert "LastDecreaseDateTime" not in pt

    ddb.update_table(TableName=name, ProvisionedThroughput={
        "ReadCapacityUnits": 2, "WriteCapacityUnits": 5})
    pt = wait_updated(ddb, name)["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (2, 5)
    assert pt["NumberOfDecreasesToday"] == 1
    assert pt["LastDecreaseDateTime"].timestamp() >= before - 5


@pytest.mark.xfail_ddblocal(reason="says 'The requested throughput value equals the current value'")
def test_update_same_throughput_is_refused(ddb, provisioned):
    name = provisioned()["TableName"]
    code, msg = error_of(ddb.update_table, TableName=name, ProvisionedThroughput={
        "ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    assert code == "ValidationException"
    assert msg == (
        "The provisioned throughput for the table will not change. The requested value equals "
        "the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested "
        "ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 5. "
        "Requested WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer Guide for "
        "current limits and how to request higher limits.")
    # BillingMode=PROVISIONED with the same throughput is the same no-op.
    code, msg2 = error_of(ddb.update_table, TableName=name, BillingMode="PROVISIONED",
                          ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    assert (code, msg2) == ("ValidationException", msg)


@pytest.mark.xfail_ddblocal(reason="DynamoDB Local names fewer members in this message")
def test_update_nothing(ddb, provisioned):
    name = provisioned()["TableName"]
    code, msg = error_of(ddb.update_table, TableName=name)
    assert code == "ValidationException"
    assert msg == (
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, "
        "MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, "
        "DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required")


@pytest.mark.xfail_ddblocal(reason="looks the table up before checking constraints")
def test_update_throughput_constraints(raw):
    code, msg = error_of(raw.update_table, TableName=unique_name(), ProvisionedThroughput={
        "ReadCapacityUnits": 0, "WriteCapacityUnits": 0})
    assert code == "ValidationException"
    assert msg == (
        "2 validation errors detected: Value '0' at 'provisionedThroughput.writeCapacityUnits' "
        "failed to satisfy constraint: Member must have value greater than or equal to 1; "
        "Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1")


@pytest.mark.xfail_ddblocal(reason="says 'Cannot do operations on a non-existent table'")
def test_update_unknown_table(ddb):
    name = unique_name()
    code, msg = error_of(ddb.update_table, TableName=name, ProvisionedThroughput={
        "ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert code == "ResourceNotFoundException"
    assert msg == f"Requested resource not found: Table: {name} not found"


@pytest.mark.xfail_ddblocal(reason="answers InternalFailure")
def test_update_billing_mode_constraint(ddb):
    code, msg = error_of(ddb.update_table, TableName=unique_name(), BillingMode="FREE")
    assert code == "ValidationException"
    assert msg == ("1 validation error detected: Value 'FREE' at 'billingMode' failed to satisfy "
                   "constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]")


# ---- UpdateTable: billing mode -----------------------------------------------------------


@pytest.mark.xfail_ddblocal(reason="UpdateTable answers ACTIVE, not UPDATING")
def test_switch_to_pay_per_request_and_back(ddb, provisioned):
    name = provisioned()["TableName"]
    before = time.time()
    out = ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")["TableDescription"]
    assert out["TableStatus"] == "UPDATING"
    assert out["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    desc = wait_updated(ddb, name)
    summary = desc["BillingModeSummary"]
    assert summary["BillingMode"] == "PAY_PER_REQUEST"
    switched = summary["LastUpdateToPayPerRequestDateTime"].timestamp()
    assert switched >= before - 5
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 0

    # Throughput on an on-demand table.
    code, msg = error_of(ddb.update_table, TableName=name, ProvisionedThroughput={
        "ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert code == "ValidationException"
    assert msg == ("One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                   "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")

    # Back to PROVISIONED needs a throughput.
    code, msg = error_of(ddb.update_table, TableName=name, BillingMode="PROVISIONED")
    assert code == "ValidationException"
    assert msg == ("One or more parameter values were invalid: ProvisionedThroughput must be "
                   "specified when BillingMode is PROVISIONED")
    ddb.update_table(TableName=name, BillingMode="PROVISIONED", ProvisionedThroughput={
        "ReadCapacityUnits": 3, "WriteCapacityUnits": 4})
    desc = wait_updated(ddb, name)
    assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    pt = desc["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]) == (3, 4)


@pytest.mark.xfail_ddblocal(reason="accepts throughput with PAY_PER_REQUEST")
def test_pay_per_request_with_throughput_is_refused(ddb, provisioned):
    name = provisioned()["TableName"]
    code, msg = error_of(ddb.update_table, TableName=name, BillingMode="PAY_PER_REQUEST",
                         ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert code == "ValidationException"
    assert msg == ("One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                   "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")


def test_items_keep_working_through_updates(ddb, provisioned):
    name = provisioned()["TableName"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}})
    wait_updated(ddb, name)
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "a"}}, ConsistentRead=True)["Item"]
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "b"}}, ConsistentRead=True)["Item"]


# ---- Deletion protection -----------------------------------------------------------------


def test_deletion_protection(ddb, provisioned):
    name = provisioned()["TableName"]
    assert ddb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is False
    ddb.update_table(TableName=name, DeletionProtectionEnabled=True)
    desc = wait_updated(ddb, name)
    assert desc["DeletionProtectionEnabled"] is True
    code, msg = error_of(ddb.delete_table, TableName=name)
    assert code == "ValidationException"
    assert msg == ("Resource cannot be deleted as it is currently protected against deletion. "
                   "Disable deletion protection first.")
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    wait_updated(ddb, name)
    ddb.delete_table(TableName=name)


@pytest.mark.xfail_ddblocal(reason="DynamoDB Local accepts deletion protection with other changes")
def test_deletion_protection_must_be_alone(ddb, provisioned):
    name = provisioned()["TableName"]
    code, msg = error_of(ddb.update_table, TableName=name, DeletionProtectionEnabled=True,
                         ProvisionedThroughput={"ReadCapacityUnits": 6, "WriteCapacityUnits": 6})
    assert code == "ValidationException"
    assert msg == ("One or more parameter values were invalid: DeletionProtection modification "
                   "must be the only operation in the request")


def test_create_table_with_deletion_protection(ddb, provisioned):
    desc = provisioned(DeletionProtectionEnabled=True)
    assert desc["DeletionProtectionEnabled"] is True
    code, _ = error_of(ddb.delete_table, TableName=desc["TableName"])
    assert code == "ValidationException"


# ---- Tags --------------------------------------------------------------------------------


@pytest.fixture
def not_ddblocal(target):
    """DynamoDB Local 3.x answers UnknownOperationException to the tagging operations and to
    DescribeEndpoints ("Tagging is not currently supported in DynamoDB Local"), so those tests
    have nothing to compare there."""
    if target == "ddblocal":
        pytest.skip("DynamoDB Local does not implement this operation")


def tags_of(ddb, arn):
    tags = ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    return sorted((t["Key"], t["Value"]) for t in tags)


def test_tag_untag_list(not_ddblocal, ddb, make_table):
    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "t1", "Value": "v1"},
                                            {"Key": "t2", "Value": ""}])
    assert tags_of(ddb, arn) == [("t1", "v1"), ("t2", "")]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "t1", "Value": "new"}])  # overwrite
    assert tags_of(ddb, arn) == [("t1", "new"), ("t2", "")]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["t2", "absent"])
    assert tags_of(ddb, arn) == [("t1", "new")]


def test_create_table_with_tags(not_ddblocal, ddb, make_table):
    name = make_table(Tags=[{"Key": "team", "Value": "shoal"}, {"Key": "env", "Value": "test"}])
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    assert tags_of(ddb, arn) == [("env", "test"), ("team", "shoal")]


def test_tag_limits(not_ddblocal, ddb, make_table):
    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k" * 128, "Value": "v" * 256}])
    code, msg = error_of(ddb.tag_resource, ResourceArn=arn,
                         Tags=[{"Key": "k" * 129, "Value": "v"}])
    assert (code, msg) == ("ValidationException",
                           "The Tag Key provided is invalid, Key: " + "k" * 129)
    code, msg = error_of(ddb.tag_resource, ResourceArn=arn,
                         Tags=[{"Key": "k", "Value": "v" * 257}])
    assert (code, msg) == ("ValidationException",
                           "The Tag Value provided is invalid, Value: " + "v" * 257)
    # 50 tags in all, counting the one already there.
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": ""} for i in range(49)])
    assert len(tags_of(ddb, arn)) == 50
    code, msg = error_of(ddb.tag_resource, ResourceArn=arn, Tags=[{"Key": "one-more", "Value": ""}])
    assert (code, msg) == ("ValidationException",
                           "Number of Tags exceed the current limit for the provided ResourceArn")
    assert len(tags_of(ddb, arn)) == 50


def test_tag_validation_messages(not_ddblocal, ddb, raw, make_table):
    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    cases = [
        ([], "Atleast one Tag needs to be provided as Input."),
        ([{"Key": "", "Value": "v"}], "The Tag Key provided is invalid, Key: "),
        ([{"Key": "a,b", "Value": "v"}], "The Tag Key provided is invalid, Key: a,b"),
        ([{"Key": "k", "Value": "100%"}], "The Tag Value provided is invalid, Value: 100%"),
        ([{"Key": "aws:zzz", "Value": "v"}], "Tag Key cannot be prefixed with aws:, Key: aws:zzz"),
        ([{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
         "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup"),
        ([{"Key": f"k{i}", "Value": ""} for i in range(51)],
         "Number of Tags exceed the current limit for the provided ResourceArn"),
    ]
    for tags, message in cases:
        assert error_of(raw.tag_resource, ResourceArn=arn, Tags=tags) == (
            "ValidationException", message), tags
    assert error_of(raw.untag_resource, ResourceArn=arn, TagKeys=[]) == (
        "ValidationException", "Atleast one Tag Key needs to be provided as Input.")
    # Nothing of the refused requests was applied.
    assert tags_of(ddb, arn) == []


def test_tags_of_unknown_table(not_ddblocal, ddb, url):
    arn = f"arn:aws:dynamodb:us-east-1:000000000000:table/{unique_name()}"
    for call, kwargs in ((ddb.list_tags_of_resource, {}),
                         (ddb.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
                         (ddb.untag_resource, {"TagKeys": ["k"]})):
        assert error_of(call, ResourceArn=arn, **kwargs) == (
            "ResourceNotFoundException",
            f"Requested resource not found: ResourcArn: {arn} not found")


def test_bad_arn(not_ddblocal, ddb):
    arn = "a:b:c:d:e:f/g"
    assert error_of(ddb.list_tags_of_resource, ResourceArn=arn) == (
        "ValidationException", f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    short = "arn:aws:dynamodb:us-east-1:000000000000:table/ab"
    assert error_of(ddb.tag_resource, ResourceArn=short, Tags=[{"Key": "k", "Value": "v"}]) == (
        "ValidationException", f"Invalid TableArn: Invalid ResourceArn provided as input {short}")


def test_tags_go_with_the_table(not_ddblocal, ddb, make_table):
    """A re-created table starts without the old one's tags."""
    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name,
                                            WaiterConfig={"Delay": 0.2, "MaxAttempts": 150})
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **KEY)
    wait_active(ddb, name)
    assert tags_of(ddb, arn) == []


# ---- DescribeLimits / DescribeEndpoints --------------------------------------------------


def test_describe_limits(ddb):
    out = ddb.describe_limits()
    out.pop("ResponseMetadata")
    assert out == {"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
                   "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}


def test_describe_endpoints(not_ddblocal, ddb, url):
    out = ddb.describe_endpoints()
    host = url.split("://", 1)[1].rstrip("/")
    assert out["Endpoints"] == [{"Address": host, "CachePeriodInMinutes": 1440}]
