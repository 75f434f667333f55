"""A real network partition of one zone (SHOAL_ZONES=netns: each zone's storage node in its
own network namespace). Today a partition has one replica, so this checks the fault tooling
and recovery: metadata notices the zone is gone, and after healing every item is there and
every partition takes writes again. Issue 4 (Raft) will extend it: the table must stay
readable and writable while the zone is cut off."""
import os
import shutil
import subprocess
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ENV = dict(os.environ, SHOAL_ZONES="netns", SHOAL_RUN_DIR=os.path.join(ROOT, ".run", "zones"),
           SHOAL_NATS_PORT="16222", SHOAL_PORT="18300", SHOAL_ADMIN_BASE="19700",
           SHOAL_BUILD_DIR=os.environ.get("SHOAL_BUILD_DIR", os.path.join(ROOT, "build")))


def netns_usable():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["ip", "netns", "add", "shoalprobe"], capture_output=True)
    subprocess.run(["ip", "netns", "del", "shoalprobe"], capture_output=True)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not netns_usable(),
                                reason="network namespaces need root and iproute2")


def fleet(*args):
    return subprocess.run(["bash", os.path.join(ROOT, "scripts", "fleet.sh"), *args], env=ENV,
                          check=True, capture_output=True, text=True, timeout=180).stdout


@pytest.fixture(scope="module")
def zoned_fleet():
    shutil.rmtree(ENV["SHOAL_RUN_DIR"], ignore_errors=True)
    fleet("stop")
    try:
        fleet("start")
    except subprocess.CalledProcessError as e:
        fleet("stop")
        pytest.fail(f"netns fleet did not start: {e.stdout}\n{e.stderr}")
    yield
    fleet("stop")


def alive_nodes():
    text = urllib.request.urlopen(
        f"http://127.0.0.1:{int(ENV['SHOAL_ADMIN_BASE']) + 1}/metrics", timeout=5).read().decode()
    return {line.split('node="')[1].split('"')[0]
            for line in text.splitlines()
            if line.startswith("shoal_metadata_nodes{") and line.endswith(" 1")}


def test_cut_zone_is_noticed_and_healing_recovers_everything(zoned_fleet):
    ddb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{ENV['SHOAL_PORT']}",
                       region_name="us-east-1", aws_access_key_id="shoal",
                       aws_secret_access_key="shoal-secret",
                       config=Config(retries={"max_attempts": 1}))
    table = "zones"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.1})
    keys = [f"k{i}" for i in range(40)]
    for k in keys:
        ddb.put_item(TableName=table, Item={"pk": {"S": k}, "v": {"S": "before"}})
    assert alive_nodes() == {"n1", "n2", "n3"}

    fleet("cut-zone", "b")
    deadline = time.time() + 15
    while "n2" in alive_nodes() and time.time() < deadline:
        time.sleep(0.2)
    assert alive_nodes() == {"n1", "n3"}, "metadata did not notice zone b was cut off"

    fleet("heal-zone", "b")
    deadline = time.time() + 20
    while alive_nodes() != {"n1", "n2", "n3"} and time.time() < deadline:
        time.sleep(0.2)
    assert alive_nodes() == {"n1", "n2", "n3"}, "zone b did not come back"
    for k in keys:
        item = ddb.get_item(TableName=table, Key={"pk": {"S": k}}, ConsistentRead=True)["Item"]
        assert item["v"] == {"S": "before"}
        ddb.put_item(TableName=table, Item={"pk": {"S": k}, "v": {"S": "after"}})
