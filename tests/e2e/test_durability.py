"""kill -9 a storage node during writes, restart it: every acknowledged item is still there."""
import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError


@pytest.mark.shoal_only
def test_acknowledged_writes_survive_kill_9(fleet, session_kwargs, make_table):
    table = make_table()
    client = boto3.client("dynamodb", config=Config(retries={"max_attempts": 0},
                                                    read_timeout=15, max_pool_connections=8),
                          **session_kwargs)
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w):
        i = 0
        while not stop.is_set():
            key = f"w{w}-{i}"
            try:
                client.put_item(TableName=table, Item={"pk": {"S": key}, "v": {"N": str(i)}})
                with lock:
                    acked.append(key)
            except (ClientError, EndpointConnectionError, ReadTimeoutError):
                pass  # not acknowledged: may or may not be there
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    before_kill = len(acked)
    for n in (1, 2):  # kill and restart two nodes in turn while writes continue
        fleet.kill_node(n)
        time.sleep(1.0)
        fleet.start_node(n)
        time.sleep(1.0)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    assert before_kill > 0 and len(acked) > before_kill, "writes did not progress"

    missing = [k for k in acked
               if "Item" not in client.get_item(TableName=table, Key={"pk": {"S": k}},
                                                ConsistentRead=True)]
    assert missing == [], f"{len(missing)} of {len(acked)} acknowledged writes lost"
