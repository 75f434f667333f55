"""Shared fixtures for Shoal's end-to-end suite.

The suite talks to any DynamoDB endpoint given with --url (Shoal's router, or DynamoDB Local
to check that our expectations match AWS). Tests that need to see inside a Shoal fleet
(metrics, killing nodes) read the fleet's settings from the environment that
scripts/fleet.sh uses and skip when they are absent.
"""
import os
import uuid

import boto3
import pytest
from botocore.config import Config


def pytest_addoption(parser):
    parser.addoption("--url", default=os.environ.get("SHOAL_URL", "http://127.0.0.1:8000"),
                     help="DynamoDB endpoint under test")


@pytest.fixture(scope="session")
def url(request):
    return request.config.getoption("--url")


@pytest.fixture(scope="session")
def session_kwargs(url):
    return dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="shoal",
                aws_secret_access_key="shoal-secret")


@pytest.fixture(scope="session")
def ddb(session_kwargs):
    return boto3.client("dynamodb", config=Config(retries={"max_attempts": 1},
                                                  read_timeout=30), **session_kwargs)


@pytest.fixture(scope="session")
def resource(session_kwargs):
    return boto3.resource("dynamodb", **session_kwargs)


def unique_name(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def wait_active(ddb, name, timeout=30):
    ddb.get_waiter("table_exists").wait(TableName=name,
                                        WaiterConfig={"Delay": 0.2, "MaxAttempts": int(timeout / 0.2)})
    desc = ddb.describe_table(TableName=name)["Table"]
    assert desc["TableStatus"] == "ACTIVE"
    return desc


@pytest.fixture
def make_table(ddb):
    """Creates tables on demand and deletes them after the test."""
    created = []

    def make(hash_key=("pk", "S"), range_key=None, **extra):
        name = unique_name()
        attrs = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
        schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
        if range_key:
            attrs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
            schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=schema,
                         BillingMode="PAY_PER_REQUEST", **extra)
        created.append(name)
        wait_active(ddb, name)
        return name

    yield make
    for name in created:
        try:
            ddb.delete_table(TableName=name)
        except ddb.exceptions.ResourceNotFoundException:
            pass


@pytest.fixture(scope="session")
def fleet():
    """Control over the local Shoal fleet, when the suite runs against one."""
    run_dir = os.environ.get("SHOAL_RUN_DIR")
    if not run_dir:
        pytest.skip("not running against a local Shoal fleet (SHOAL_RUN_DIR unset)")
    return Fleet()


class Fleet:
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

    def __init__(self):
        self.admin_base = int(os.environ.get("SHOAL_ADMIN_BASE", "9100"))

    def script(self, *args):
        import subprocess
        subprocess.run(["bash", os.path.join(self.root, "scripts", "fleet.sh"), *args],
                       check=True, capture_output=True, text=True, timeout=120)

    def kill_node(self, n):
        self.script("kill-node", str(n))

    def start_node(self, n):
        self.script("start-node", str(n))

    def storage_metrics_urls(self):
        return [f"http://127.0.0.1:{self.admin_base + 10 + n}/metrics" for n in (1, 2, 3)]
