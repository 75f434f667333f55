"""Shared fixtures for Shoal's end-to-end suite.

The suite talks to any DynamoDB endpoint given with --url (Shoal's router, or DynamoDB Local
to check that our expectations match AWS: `make conformance-ddblocal`). --target (or the
environment's DDB_TARGET) says what is behind the URL: shoal (default), ddblocal or aws.

Markers:
  shoal_only                  the test looks inside a local Shoal fleet (metrics, killing
                              nodes): skipped unless the target is shoal and SHOAL_RUN_DIR
                              (set by scripts/test.sh and fleet.sh users) names the fleet.
  xfail_ddblocal(reason=...)  DynamoDB Local is known to answer differently from AWS here; the
                              test keeps AWS's behaviour (what Shoal must do) and is a strict
                              xfail on DynamoDB Local only, so a DynamoDB Local that starts to
                              agree with AWS shows up as XPASS(strict) and the marker goes.
"""
import os
import uuid

import boto3
import pytest
from botocore.config import Config


TARGETS = ("shoal", "ddblocal", "aws")


def pytest_addoption(parser):
    parser.addoption("--url", default=os.environ.get("SHOAL_URL", "http://127.0.0.1:8000"),
                     help="DynamoDB endpoint under test")
    parser.addoption("--target", choices=TARGETS,
                     default=os.environ.get("DDB_TARGET") or "shoal",
                     help="what implements the endpoint: shoal (default), ddblocal (DynamoDB "
                          "Local) or aws; default from DDB_TARGET")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "shoal_only: needs a local Shoal fleet (target shoal and SHOAL_RUN_DIR set)")
    config.addinivalue_line(
        "markers", "xfail_ddblocal(reason): DynamoDB Local is known to differ from AWS here; "
                   "strict xfail when --target ddblocal")
    if config.getoption("--target") not in TARGETS:  # a bad DDB_TARGET
        raise pytest.UsageError(f"--target/DDB_TARGET must be one of {', '.join(TARGETS)}")


def local_fleet_available(config):
    """True when the endpoint is a local Shoal fleet whose insides the suite may look at."""
    return config.getoption("--target") == "shoal" and bool(os.environ.get("SHOAL_RUN_DIR"))


def pytest_collection_modifyitems(config, items):
    target = config.getoption("--target")
    fleet_ok = local_fleet_available(config)
    for item in items:
        if item.get_closest_marker("shoal_only") and not fleet_ok:
            item.add_marker(pytest.mark.skip(
                reason=f"needs a local Shoal fleet (target {target}, "
                       f"SHOAL_RUN_DIR {'set' if os.environ.get('SHOAL_RUN_DIR') else 'unset'})"))
        if target == "ddblocal":
            for mark in item.iter_markers("xfail_ddblocal"):
                reason = mark.kwargs.get("reason") or (mark.args[0] if mark.args else "")
                # Only a wrong answer is expected: an error of the test itself (a boto3
                # ParamValidationError, a connection error) still fails.
                item.add_marker(pytest.mark.xfail(
                    reason=f"DynamoDB Local differs from AWS: {reason}", strict=True,
                    raises=(AssertionError, pytest.fail.Exception)))


@pytest.fixture(scope="session")
def target(request):
    return request.config.getoption("--target")


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
                                        WaiterConfig={"Delay": 0.05, "MaxAttempts": int(timeout / 0.05)})
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
def fleet(request):
    """Control over the local Shoal fleet, when the suite runs against one (else: skip)."""
    if not local_fleet_available(request.config):
        pytest.skip("not running against a local Shoal fleet (target is not shoal, or "
                    "SHOAL_RUN_DIR unset)")
    return Fleet()


@pytest.fixture(scope="session")
def fleet_if_any(request):
    """The local Shoal fleet, or None: for tests that only add fleet checks when they can."""
    return Fleet() if local_fleet_available(request.config) else None


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
        # fleet.sh records where each storage node's admin port is (a namespace address when
        # zones run in network namespaces).
        env = os.path.join(os.environ.get("SHOAL_RUN_DIR", ""), "endpoints.env")
        if os.path.exists(env):
            with open(env) as f:
                hosts = dict(line.strip().split("=", 1) for line in f if "=" in line)
            return [f"http://{hosts[f'STORAGE_ADMIN_{n}']}/metrics" for n in (1, 2, 3)]
        return [f"http://127.0.0.1:{self.admin_base + 10 + n}/metrics" for n in (1, 2, 3)]
